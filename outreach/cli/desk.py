"""Commands: desk."""

import click

commands: list[click.Command] = []
