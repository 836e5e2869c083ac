"""Campaigns: rules that make customers due, each a set-based query over the customer file.

A campaign module exposes ``NAME`` and
``select_due(session, settings, today) -> Iterator[DueItem]``.
Every campaign applies :mod:`outreach.rules`; :func:`iter_due` runs them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from outreach.campaigns import deferred_work, maintenance_interval, post_service_followup, seasonal
from outreach.campaigns.due import KINDS, Campaign, DueItem, who_columns
from outreach.settings import Settings

__all__ = ["Campaign", "DueItem", "campaigns", "iter_due", "who_columns"]

_MODULES: list[Any] = [maintenance_interval, deferred_work, seasonal, post_service_followup]
KINDS.update({m.NAME: m for m in _MODULES})


def campaigns() -> dict[str, Campaign]:
    """Every due-customer campaign, by name."""
    return dict(KINDS)


def iter_due(
    session: Session, settings: Settings, today: date, names: Iterable[str] | None = None
) -> Iterator[DueItem]:
    """Stream every due item of the named campaigns (all when ``names`` is None)."""
    available = campaigns()
    chosen = list(available) if names is None else list(names)
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise ValueError(f"unknown campaign {unknown[0]!r}; known: {', '.join(available)}")
    for name in chosen:
        yield from available[name].select_due(session, settings, today)
