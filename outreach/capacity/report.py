"""The load of each day: booked, held and free labour, and arrival places used and free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.capacity import ledger
from outreach.capacity.model import Calendar, arrivals_key, days, labour_key
from outreach.models.capacity import CapacityTake, CapacityUnit

if TYPE_CHECKING:
    from outreach.settings import Settings  # annotations only: capacity never imports settings


@dataclass(frozen=True)
class DayLoad:
    day: date
    closed: str | None  # why the workshop is closed, or None
    labour_minutes: int  # bookable (after the reserved share)
    booked_minutes: int
    held_minutes: int
    arrival_places: int  # counting only intervals from ``after`` on
    arrivals_used: int

    @property
    def free_minutes(self) -> int:
        return max(0, self.labour_minutes - self.booked_minutes - self.held_minutes)

    @property
    def arrivals_free(self) -> int:
        return max(0, self.arrival_places - self.arrivals_used)


def day_loads(
    session: Session, settings: Settings, first: date, count: int, *, after: datetime | None = None
) -> list[DayLoad]:
    """One :class:`DayLoad` per local day from ``first``; ``after`` drops earlier intervals."""
    cal = Calendar(settings)
    last = date.fromordinal(first.toordinal() + count - 1)
    used = ledger.usage(session, first, last)
    owners = _labour_by_owner(session, first, last)
    out = []
    for day in days(first, count):
        reason = cal.closed_reason(day)
        starts = [s for s in cal.intervals(day) if after is None or s >= after]
        per_interval = min(
            settings.capacity.max_arrivals_per_interval,
            sum(a.cars_per_interval for a in cal.advisors_on(day)),
        )
        booked, held = owners.get(labour_key(day), (0, 0))
        out.append(
            DayLoad(
                day=day,
                closed=reason,
                labour_minutes=0 if reason else cal.labour_capacity(day),
                booked_minutes=booked,
                held_minutes=held,
                arrival_places=per_interval * len(starts),
                arrivals_used=sum(used.get(arrivals_key(s), 0) for s in starts),
            )
        )
    return out


def _labour_by_owner(session: Session, first: date, last: date) -> dict[str, tuple[int, int]]:
    """Labour minutes per day key taken by appointments and by holds."""
    t = CapacityTake
    rows = session.execute(
        select(
            t.unit_key,
            func.sum(t.amount).filter(t.appointment_id.is_not(None)),
            func.sum(t.amount).filter(t.hold_id.is_not(None)),
        )
        .join(CapacityUnit, CapacityUnit.key == t.unit_key)
        .where(CapacityUnit.kind == "labour", CapacityUnit.day >= first, CapacityUnit.day <= last)
        .group_by(t.unit_key)
    )
    return {key: (booked or 0, held or 0) for key, booked, held in rows}
