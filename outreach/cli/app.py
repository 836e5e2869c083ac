"""What every command shares: the :class:`App` of one invocation, and the CLI's own option types."""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cached_property, update_wrapper
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from outreach.db import check_database, make_engine, make_sessionmaker
from outreach.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class App:
    """What a command needs, made on first use: settings, the engine and the session factory.

    Failures surface as the domain's own errors (``ConfigError``, ``DatabaseUnavailable``); the
    command group turns every one of them into a single line (see ``outreach.cli``).
    """

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.environ)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        check_database(self.engine)
        return make_sessionmaker(self.engine)


def pass_app(f: F) -> F:
    """Hand the command the :class:`App` of this invocation as its first argument."""

    @click.pass_context
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        return ctx.invoke(f, ctx.ensure_object(App), *args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]


class Day(click.ParamType):
    """A calendar day written YYYY-MM-DD; a day that does not exist is named as such."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if match is None:
            self.fail(
                f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02", param, ctx
            )
        year, month, day = (int(part) for part in match.groups())
        if not 1 <= month <= 12:
            self.fail(f"{text} does not exist: there is no month {month}", param, ctx)
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            self.fail(
                f"{text} does not exist: {calendar.month_name[month]} {year} has {last} days",
                param,
                ctx,
            )
        return date(year, month, day)


DAY = Day()


def today_in(settings: Settings, day: date | None) -> date:
    """``day`` if given, else today in the dealership's time zone."""
    return day if day is not None else datetime.now(settings.tz).date()
