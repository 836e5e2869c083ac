"""The conversation's one door to workshop capacity: offers, holds, booking, jobs.

Offered slots are kept in ``Outreach.context["slots"]`` as plain JSON (UTC ISO times), so the
next reply — on any web worker — books exactly what the customer saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach import capacity
from outreach.capacity import Slot, SlotTaken, SlotUnavailable
from outreach.models import Appointment, Outreach
from outreach.preferences import SlotPreference
from outreach.settings import Settings

__all__ = ["SlotTaken", "SlotUnavailable"]

# What a need or a campaign books when nothing more specific is known; the advisor refines it.
_NEED_JOBS = {
    "maintenance": "maintenance",
    "repair_question": "inspection",
    "repair": "inspection",
    "accident": "accident_assessment",
    "detailing": "detailing",
}
_CAMPAIGN_JOBS = {
    "maintenance_interval": "maintenance",
    "deferred_work": "inspection",
    "post_service_followup": "inspection",
}
_SEASON_JOBS = {"pre-summer-ac": "ac_check", "pre-winter": "winter_check"}


def job_for_need(need: str) -> str:
    """The job code a customer's need books (the advisor refines it)."""
    return _NEED_JOBS.get(need, "inspection")


def jobs_for(settings: Settings, outreach: Outreach | None, need: str | None = None) -> list[str]:
    """The job codes to offer for an outreach: its reasons' jobs, else the customer's need
    (without an outreach, the need alone), else the workshop's first job."""
    known = settings.capacity.job_types
    wanted: list[str] = []
    for reason in outreach.reasons if outreach is not None else ():
        code = _CAMPAIGN_JOBS.get(reason.campaign)
        if reason.campaign == "seasonal":
            code = _SEASON_JOBS.get((reason.facts or {}).get("window", ""), "inspection")
        wanted.append(code or "inspection")
    if need:
        wanted.append(job_for_need(need))
    jobs = list(dict.fromkeys(c for c in wanted if c in known))
    return jobs or [next(iter(known))]


def never_open(
    settings: Settings, *, jobs: list[str], preference: SlotPreference, now: datetime
) -> bool:
    """Whether the workshop is never open for ``jobs`` at the preferred time (closed, not full)."""
    return capacity.never_open(settings, jobs=jobs, preference=preference, now=now)


def past_horizon(settings: Settings, *, preference: SlotPreference, now: datetime) -> bool:
    """Whether the preferred day is past the booking horizon (out of reach, not full)."""
    return capacity.past_horizon(settings, preference=preference, now=now)


def offer(
    session: Session,
    settings: Settings,
    *,
    jobs: list[str],
    preference: SlotPreference | None,
    now: datetime,
    customer_id: int,
    hold_for: str | None,
) -> list[dict[str, Any]]:
    """Up to three slots (held for ``hold_for`` when given), as JSON for the context."""
    found = capacity.offer_slots(
        session,
        settings,
        jobs=jobs,
        preference=preference,
        now=now,
        limit=3,
        customer_id=customer_id,
        hold_for=hold_for,
    )
    return [_to_json(s) for s in found]


def _to_json(slot: Slot) -> dict[str, Any]:
    return {
        "starts_at": slot.starts_at.isoformat(),
        "advisor_id": slot.advisor_id,
        "advisor_name": slot.advisor_name,
        "hold_id": slot.hold_id,
    }


def starts_at(slot: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(slot["starts_at"])


def book(
    session: Session,
    settings: Settings,
    outreach: Outreach,
    slot: dict[str, Any],
    *,
    jobs: list[str],
    now: datetime,
    source: str,
) -> Appointment:
    """Book the offered slot (converting its hold); raises SlotTaken / SlotUnavailable."""
    return capacity.book(
        session,
        settings,
        customer_id=outreach.customer_id,
        vehicle_id=outreach.vehicle_id,
        jobs=jobs,
        starts_at=starts_at(slot),
        now=now,
        hold_id=slot.get("hold_id"),
        advisor_id=slot.get("advisor_id"),
        source=source,
        outreach_id=outreach.id,
    )


def move(
    session: Session,
    settings: Settings,
    appointment: Appointment,
    slot: dict[str, Any],
    *,
    now: datetime,
) -> Appointment:
    """Move an appointment to the offered slot; the customer's holds are released in the same
    step, so the appointment can take the places they kept."""
    return capacity.reschedule(
        session, settings, appointment, starts_at=starts_at(slot), now=now, advisor_id=None,
        release_holds=True,
    )  # fmt: skip


def cancel(session: Session, settings: Settings, appointment: Appointment, now: datetime) -> None:
    capacity.cancel(session, settings, appointment, now)


def release(session: Session, customer_id: int) -> None:
    """Give back every slot held for the customer (they declined, opted out or went to a person)."""
    capacity.release_customer_holds(session, customer_id)


def estimate(settings: Settings, jobs: list[str], locale: str) -> capacity.Estimate:
    return capacity.estimate(settings, jobs, locale)
