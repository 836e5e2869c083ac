"""Commands: capacity."""

import click

commands: list[click.Command] = []
