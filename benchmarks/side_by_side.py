"""Run ``workshop_scale.py`` of two source trees side by side, taking turns, so both see the
same load from other work on a shared machine.

    python benchmarks/side_by_side.py TREE_A TREE_B [--turn 20] [--rounds 3] \
        -- [workshop_scale.py options]

Each tree's own ``benchmarks/workshop_scale.py`` runs in its own process with
``PYTHONPATH=TREE`` (its own code); the two processes hand a baton to each other every
``--turn`` replies (through pipes), so they never run a reply at the same time and each
measures its own CPU (and its own PostgreSQL backends') while the other waits.  Both run the
same number of replies, so they stay in step.  Each round prints both outputs; run the trees
in the other order to see whether going first matters.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BATON = "OUTREACH_BENCH_BATON"  # "read_fd,write_fd" in a child


def child(script: str, turn: int, argv: list[str]) -> None:
    """In a child: hand the baton on every ``turn`` replies, then run the tree's script."""
    from flask.testing import FlaskClient

    read_fd, write_fd = (int(fd) for fd in os.environ[BATON].split(","))
    state = {"mine": os.environ.get("OUTREACH_BENCH_FIRST") == "1", "done": 0}
    post = FlaskClient.post

    def taking_turns(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not state["mine"]:
            os.read(read_fd, 1)  # wait for the other tree's turn to end (b"" once it exited)
            state["mine"] = True
        response = post(self, *args, **kwargs)
        state["done"] += 1
        if state["done"] % turn == 0:
            state["mine"] = False
            with contextlib.suppress(BrokenPipeError):  # the other tree is done
                os.write(write_fd, b".")
        return response

    FlaskClient.post = taking_turns  # type: ignore[method-assign]
    sys.path[0] = str(Path(script).resolve().parent.parent)  # the tree's packages, not ours
    sys.argv = [script, *argv]
    runpy.run_path(script, run_name="__main__")


def main() -> int:
    if BATON in os.environ:
        script, turn, *argv = sys.argv[1:]
        child(script, int(turn), argv)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs=2, help="two source trees (git worktrees)")
    parser.add_argument("--turn", type=int, default=20, help="replies per turn")
    parser.add_argument("--rounds", type=int, default=3)
    args, rest = parser.parse_known_args()
    rest = [a for a in rest if a != "--"]
    for number in range(1, args.rounds + 1):
        a_to_b, b_to_a = os.pipe(), os.pipe()
        load = Path("/proc/loadavg").read_text().split()[:3]
        print(f"=== round {number}, {time.strftime('%H:%M:%S')}, load average {' '.join(load)}")
        children = []
        for index, tree in enumerate(args.trees):
            read_fd = b_to_a[0] if index == 0 else a_to_b[0]
            write_fd = a_to_b[1] if index == 0 else b_to_a[1]
            env = {
                **os.environ,
                "PYTHONPATH": str(Path(tree).resolve()),
                BATON: f"{read_fd},{write_fd}",
                "OUTREACH_BENCH_FIRST": "1" if index == 0 else "0",
            }
            script = str(Path(tree).resolve() / "benchmarks" / "workshop_scale.py")
            command = [sys.executable, __file__, script, str(args.turn), *rest]
            children.append(
                subprocess.Popen(
                    command,
                    env=env,
                    pass_fds=(read_fd, write_fd),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        for fd in (*a_to_b, *b_to_a):
            os.close(fd)  # only the children hold them: one that exits ends the other's waits
        outputs = [c.communicate()[0] for c in children]
        for tree, child_process, output in zip(args.trees, children, outputs, strict=True):
            print(f"--- {tree} (exit {child_process.returncode})")
            print(output.rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
