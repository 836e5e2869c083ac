"""Commands for the database and the customer file: ``db upgrade``, ``import``."""

from __future__ import annotations

import click

from outreach.cli import App, pass_app
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


commands: list[click.Command] = [db]
