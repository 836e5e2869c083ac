"""``outreach config check``: the dealership's file read as the product reads it."""

from __future__ import annotations

import click

from outreach.cli.app import App, pass_app
from outreach.settings import effective_config


@click.group("config")
def config() -> None:
    """The dealership's configuration (OUTREACH_CONFIG)."""


@config.command("check")
@pass_app
def check(app: App) -> None:
    """Check the file and print the configuration in force, defaults marked."""
    settings = app.settings
    click.echo(f"# {settings.config_path}: no mistakes found")
    for line in effective_config(settings):
        click.echo(line)


commands: list[click.Command] = [config]
