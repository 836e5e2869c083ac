"""The ``outreach`` command line: one module per area, each exporting ``commands``."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property, update_wrapper
from typing import Any, TypeVar

import click
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session, sessionmaker

from outreach.db import make_engine, make_sessionmaker
from outreach.settings import ConfigError, Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class App:
    """What a command needs, made on first use: settings, the engine and the session factory."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)

    @cached_property
    def settings(self) -> Settings:
        try:
            return load_settings(self.environ)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        if not inspect(self.engine).has_table("alembic_version"):
            where = self.engine.url.render_as_string(hide_password=True)
            raise click.ClickException(
                f"the database {where} has no tables yet: run `outreach db upgrade` first"
            )
        return make_sessionmaker(self.engine)


def pass_app(f: F) -> F:
    """Hand the command the :class:`App` of this invocation as its first argument."""

    @click.pass_context
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        return ctx.invoke(f, ctx.ensure_object(App), *args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Book car-service appointments by SMS and phone."""
    ctx.ensure_object(App)


def _register() -> None:
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

    for module in (
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
        for command in module.commands:
            main.add_command(command)


_register()
