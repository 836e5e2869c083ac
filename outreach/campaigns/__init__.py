"""Campaigns: rules that make customers due, each a set-based query over the customer file.

A campaign module exposes ``NAME`` and
``select_due(session, settings, today) -> Iterator[DueItem]``.
Every campaign applies :mod:`outreach.rules`; :func:`iter_due` runs them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy.orm import Session

from outreach.settings import Settings


@dataclass(slots=True)
class DueItem:
    """One reason a customer is due.

    ``details`` holds the campaign's own raw values; ``reason`` (for people reading lists),
    ``facts`` (for the scripts) and ``subject_key`` are derived from them by the campaign
    module on demand, so selecting a million vehicles builds no strings it won't show.
    """

    campaign: str
    customer_id: int
    customer_ref: str  # the dealer's own id (customers.csv customer_id)
    vehicle_id: int | None
    vehicle_ref: str | None
    due_on: date
    anchor_on: date | None
    priority: int  # lower is more urgent
    deferred_item_id: int | None = None
    details: tuple[Any, ...] = ()

    @property
    def reason(self) -> str:
        return _module(self.campaign).describe(self)

    @property
    def facts(self) -> dict[str, Any]:
        return _module(self.campaign).facts(self)

    @property
    def subject_key(self) -> str:
        """Unique per reason: a reason is acted on once, ever."""
        return _module(self.campaign).subject_key(self)

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_ref,
            "vehicle_id": self.vehicle_ref,
            "campaign": self.campaign,
            "reason": self.reason,
            "due_on": self.due_on.isoformat(),
            "priority": self.priority,
            "subject_key": self.subject_key,
            "facts": {
                k: v.isoformat() if isinstance(v, date) else v for k, v in self.facts.items()
            },
        }


def who_columns() -> tuple[Any, ...]:
    """The customer and vehicle ids every campaign query returns first, in this order."""
    from outreach.models import Customer, Vehicle

    return (
        Customer.id.label("customer_id"),
        Customer.external_id.label("customer_ref"),
        Vehicle.id.label("vehicle_id"),
        Vehicle.external_id.label("vehicle_ref"),
    )


class Campaign(Protocol):
    NAME: str

    def select_due(
        self, session: Session, settings: Settings, today: date
    ) -> Iterator[DueItem]: ...

    def describe(self, item: DueItem) -> str: ...

    def facts(self, item: DueItem) -> dict[str, Any]: ...

    def subject_key(self, item: DueItem) -> str: ...


_REGISTRY: dict[str, Campaign] = {}


def _module(name: str) -> Campaign:
    if not _REGISTRY:
        _REGISTRY.update(campaigns())
    return _REGISTRY[name]


def campaigns() -> dict[str, Campaign]:
    """Every due-customer campaign, by name."""
    from outreach.campaigns import (
        deferred_work,
        maintenance_interval,
        post_service_followup,
        seasonal,
    )

    modules: list[Any] = [maintenance_interval, deferred_work, seasonal, post_service_followup]
    return {m.NAME: m for m in modules}


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
