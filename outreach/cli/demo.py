"""``outreach demo``: the sample dealership end to end, on SQLite, with nothing sent."""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from outreach.cli.app import App, pass_app
from outreach.cli.messaging import run_server
from outreach.demo import run_demo

DEMO_DB = "outreach-demo.db"


def this_command() -> str:
    """How to run ``outreach`` again from here: the executable of this installation.

    After the README's ``python3 -m venv .venv && .venv/bin/pip install -e .`` that is
    ``.venv/bin/outreach``, which is not on PATH; relative when it lies below the current folder.
    """
    beside = Path(sys.executable).with_name("outreach")
    found = beside if beside.exists() else shutil.which("outreach")
    if found is None:
        return f"{sys.executable} -m outreach.cli"
    path = Path(found).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@click.command("demo")
@click.option("--customers", default=300, show_default=True, help="How many sample customers.")
@click.option("--seed", default=7, show_default=True, help="Random seed of the sample data.")
@click.option("--dir", "directory", default="demo-data", show_default=True, type=click.Path(),
              help="Where the sample DMS export is written.")  # fmt: skip
@click.option("--database-url", default=None,
              help=f"Where to build it (default: a fresh sqlite:///{DEMO_DB}).")  # fmt: skip
@click.option("--show", default=6, show_default=True, help="Messages printed in full.")
@click.option("--sms", type=click.Choice(["sandbox", "aliyun-standin"]), default="sandbox",
              show_default=True,
              help="aliyun-standin: send through the Aliyun gateway to a local stand-in and "
              "show each message's template and variables.")  # fmt: skip
@click.option("--serve", "serve", is_flag=True, help="Then open the desk on it (outreach serve).")
@click.option("--port", default=5000, show_default=True, type=int, help="The desk's port.")
@pass_app
def demo(
    app: App,
    customers: int,
    seed: int,
    directory: str,
    database_url: str | None,
    show: int,
    sms: str,
    serve: bool,
    port: int,
) -> None:
    """Build a sample dealership, run a morning of it and show the exact messages."""
    if database_url is None:
        path = Path(DEMO_DB)
        for leftover in (path, Path(f"{DEMO_DB}-wal"), Path(f"{DEMO_DB}-shm")):
            leftover.unlink(missing_ok=True)  # the demo's own file, rebuilt every run
        database_url = f"sqlite:///{DEMO_DB}"
    run_demo(
        app.settings,
        database_url=database_url,
        directory=Path(directory),
        now=datetime.now(UTC),
        customers=customers,
        seed=seed,
        echo=click.echo,
        show=show,
        sms=sms,
        desk_command=f"{this_command()} serve" + ("" if port == 5000 else f" --port {port}"),
        desk_url=f"http://127.0.0.1:{port}/",
    )
    if serve:
        desk = App({**app.environ, "DATABASE_URL": database_url})
        run_server(desk, "127.0.0.1", port)


commands: list[click.Command] = [demo]
