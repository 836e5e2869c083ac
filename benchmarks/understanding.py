"""Benchmark: the cost of understanding one reply (normalise, read every slot, decide).

    python benchmarks/understanding.py            # every corpus reply, median of 5 runs

Times :func:`outreach.conversation.understand.understand` over every labelled reply of
``tests/data/replies/*.jsonl`` in the reply's own state, with the per-reply caches emptied
before each reply (a webhook sees each text once), and prints the median cost per reply.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from outreach.conversation import normal
from outreach.conversation.understand import understand
from outreach.evaluation.corpus import load

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def run_once(replies: list) -> float:
    """Milliseconds per reply for one pass over the corpus."""
    start = time.perf_counter()
    for reply in replies:
        normal.normalise.cache_clear()
        normal.strip.cache_clear()
        options = {"offer": 3, "followup": 5}.get(reply.state, 0)
        understand(reply.text, now_local=NOW, options=options, state=reply.state)
    return (time.perf_counter() - start) * 1000 / len(replies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    replies = load(sorted((ROOT / "tests" / "data" / "replies").glob("*.jsonl")))
    understand("warm up", now_local=NOW)  # the lexicon is loaded and compiled once
    runs = [run_once(replies) for _ in range(args.repeat)]
    print(f"{len(replies)} replies: median {statistics.median(runs):.2f} ms per reply "
          f"(min {min(runs):.2f}, max {max(runs):.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
