"""Commands: scripts."""

import click

commands: list[click.Command] = []
