"""Commands: messaging."""

import click

commands: list[click.Command] = []
