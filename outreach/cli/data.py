"""Commands for the database and the customer file: ``db upgrade``, ``import``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from outreach.cli.app import App, pass_app
from outreach.db import transaction
from outreach.importer import FILES, ImportAborted, ImportReport, import_directory
from outreach.migrate import upgrade


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Create or migrate the tables to the newest schema."""
    upgrade(app.engine)
    click.echo(f"database is up to date ({app.engine.url.render_as_string(hide_password=True)})")


@click.command("import")
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@pass_app
@click.pass_context
def import_command(ctx: click.Context, app: App, directory: Path, quiet: bool) -> None:
    """Import the DMS export in DIRECTORY: customers.csv, vehicles.csv, visits.csv,
    deferred_work.csv (see docs/import-format.md).

    Good rows are kept and every rejected row is listed as file:line:column: reason; the exit
    status is 1 when any row was rejected, 2 when a file could not be read (nothing imported).
    """
    progress = not quiet and sys.stderr.isatty()
    try:
        # One transaction: a crash or an unreadable file leaves the database as it was.
        with transaction(app.sessions) as session:
            report = import_directory(
                session, app.settings, directory, now=datetime.now(UTC), progress=progress
            )
    except ImportAborted as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo("nothing was imported", err=True)
        ctx.exit(2)
    for error in report.errors:
        click.echo(str(error), err=True)
    click.echo(_summary(report))
    if report.errors:
        ctx.exit(1)


def _summary(report: ImportReport) -> str:
    lines = []
    for name in FILES:
        counts = report.files.get(name)
        if counts is None:
            lines.append(f"{name:<18} absent")
            continue
        lines.append(
            f"{name:<18} inserted {counts.inserted}, updated {counts.updated}, "
            f"unchanged {counts.unchanged}, rejected {counts.rejected}"
        )
    if report.advisors_created:
        lines.append(f"advisors created: {report.advisors_created}")
    lines.append(f"{report.rejected} rows rejected" if report.rejected else "no rows rejected")
    return "\n".join(lines)


commands: list[click.Command] = [db, import_command]
