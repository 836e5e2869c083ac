"""``outreach demo``: the sample dealership end to end, on SQLite, with nothing sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from outreach.cli.app import App, pass_app
from outreach.demo import run_demo

DEMO_DB = "outreach-demo.db"


@click.command("demo")
@click.option("--customers", default=300, show_default=True, help="How many sample customers.")
@click.option("--seed", default=7, show_default=True, help="Random seed of the sample data.")
@click.option("--dir", "directory", default="demo-data", show_default=True, type=click.Path(),
              help="Where the sample DMS export is written.")  # fmt: skip
@click.option("--database-url", default=None,
              help=f"Where to build it (default: a fresh sqlite:///{DEMO_DB}).")  # fmt: skip
@click.option("--show", default=6, show_default=True, help="Messages printed in full.")
@pass_app
def demo(
    app: App, customers: int, seed: int, directory: str, database_url: str | None, show: int
) -> None:
    """Build a sample dealership, run today's campaigns and show the exact messages."""
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
    )


commands: list[click.Command] = [demo]
