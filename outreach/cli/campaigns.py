"""Commands: campaigns."""

import click

commands: list[click.Command] = []
