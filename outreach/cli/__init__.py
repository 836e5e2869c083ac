"""The ``outreach`` command line: one module per area, each exporting ``commands``.

The group is the CLI's one error boundary: a failure the user can fix (the database, the
configuration, a file) ends the command with one line saying what is wrong and what to do,
and a non-zero exit status, whatever the command.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from outreach import __version__
from outreach.cli import (
    campaigns,
    capacity,
    config,
    data,
    demo,
    desk,
    evaluation,
    messaging,
    scripts,
    understanding,
    workdays,
)
from outreach.cli.app import App, pass_app
from outreach.db import DatabaseUnavailable
from outreach.settings import ConfigError

MISSING_TABLE = ("no such table", "no such column", "UndefinedTable", "UndefinedColumn")


def known_failure(exc: BaseException) -> str | None:
    """The one line a user reads for a failure they can fix, or None for a bug (traceback)."""
    if isinstance(exc, DatabaseUnavailable | ConfigError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return "a file is not UTF-8 text: open it in an editor and save it as UTF-8"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, OperationalError | ProgrammingError) and any(
        marker in str(exc.orig) or marker in type(exc.orig).__name__ for marker in MISSING_TABLE
    ):
        return "the database's tables are older than this version: run `outreach db upgrade`"
    return None


class Outreach(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            line = known_failure(exc)
            if line is None:
                raise
            raise click.ClickException(line) from None


@click.group(cls=Outreach)
@click.version_option(__version__, prog_name="outreach", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Book car-service appointments by SMS and phone."""
    ctx.ensure_object(App)


for _module in (
    data,
    demo,
    campaigns,
    scripts,
    capacity,
    workdays,
    messaging,
    desk,
    config,
    understanding,
    evaluation,
):
    for _command in _module.commands:
        main.add_command(_command)

__all__ = ["App", "main", "pass_app"]
