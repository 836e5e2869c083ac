"""What a campaign yields: one reason a customer is due, and what every campaign module offers.

Campaign modules import this module; :mod:`outreach.campaigns` imports the campaign modules and
enters each in :data:`KINDS`, so a :class:`DueItem` can describe itself without an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
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
        return KINDS[self.campaign].describe(self)

    @property
    def facts(self) -> dict[str, Any]:
        return KINDS[self.campaign].facts(self)

    @property
    def subject_key(self) -> str:
        """Unique per reason: a reason is acted on once, ever."""
        return KINDS[self.campaign].subject_key(self)

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


KINDS: dict[str, Campaign] = {}
"""Every campaign module by name, filled in by :mod:`outreach.campaigns`."""
