"""What the bot says: the dealership's scripts, filled with the conversation's facts.

Texts come from :func:`outreach.scripts.render` (the dealership's Jinja2 scripts, whose
variables are documented at the top of each ``.j2`` file).  The conversation's steps carry raw
objects (slot dicts, the Appointment, the reasons); :func:`render_text` shapes them into the
scripts' variables here, in one place.  Every step has a shipped script the dealership can
override; the wording exists only in the scripts.  When an override is missing for a channel
or cannot take the conversation's facts, the shipped script answers (with a warning in the
log), so the customer is never left without an answer.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from outreach import lexicon
from outreach.models import Appointment, Customer, OutreachReason, Vehicle
from outreach.scripts import ScriptError, ScriptNotFound, render
from outreach.settings import Settings

# Weekday and month names are the lexicon's (outreach/lexicon), like every word list.
_WEEKDAYS = {
    "zh-CN": "".join(lexicon.names("weekday_names", "zh-CN")),
    "en": lexicon.names("weekday_names", "en"),
}
log = logging.getLogger(__name__)
# Our step names → the shipped scripts' names, where they differ.
_SCRIPT_NAMES = {
    "sms": {"declined": "decline_ack", "ask_need": "inbound_greeting"},
    "voice": {"declined": "goodbye", "clarify": "gather_retry", "ask_need": "inbound_greeting"},
}


def render_text(
    settings: Settings,
    name: str,
    *,
    customer: Customer,
    channel: str,
    vehicle: Vehicle | None = None,
    reasons: list[OutreachReason] | None = None,
    **step: Any,
) -> str:
    """The text for step ``name`` on ``channel``, in the customer's language."""
    locale = lang(customer.locale)
    offered: list[dict[str, Any]] = step.pop("slot_list", None) or []
    appt: Appointment | None = step.pop("appointment", None)
    if name == "slot_options" and not offered:
        name = "no_slots"
    answer = step.get("answer")
    if name == "answer" and isinstance(answer, dict) and answer.get("topic") == "hours":
        step["answer"] = {**answer, "opening": opening_text(settings, locale)}
    script = _SCRIPT_NAMES.get(channel, {}).get(name, name)
    vehicle = vehicle or (appt.vehicle if appt else None)
    context: dict[str, Any] = {
        "customer": {"name": customer.name},
        "vehicle": {"plate": vehicle.plate, "model": vehicle.model} if vehicle else None,
        "reasons": [
            {"campaign": r.campaign, "reason": r.reason, **(r.facts or {})} for r in reasons or []
        ],
        "slots": [{"number": n, "starts_at": _at(s)} for n, s in enumerate(offered, 1)],
        "appointment": _appointment(settings, appt) if appt else None,
        **step,
    }
    try:
        return render(settings, script, locale=locale, channel=channel, **context)
    except (ScriptNotFound, ScriptError) as exc:
        if settings.scripts_override_dir is None:
            raise  # a shipped script that cannot say this is a bug: the webhook's fallback
        # The dealership's own script cannot say this: the shipped one does.
        log.warning("script %s/%s failed, using the shipped script: %s", channel, script, exc)
    shipped = dataclasses.replace(settings, scripts_override_dir=None)
    return render(shipped, script, locale=locale, channel=channel, **context)


def _at(slot: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(slot["starts_at"])


def _appointment(settings: Settings, appt: Appointment) -> dict[str, Any]:
    # The stored description is the one in force when it was booked (zh-CN); the configured
    # job type gives every language, so an English customer reads English.
    job_types = settings.capacity.job_types
    jobs = [
        {
            "description": job_types[j.job_code].description
            if j.job_code in job_types
            else j.description,
            "labour_hours": j.labour_hours,
            "price": j.price,
        }
        for j in appt.jobs
    ]
    return {
        "starts_at": appt.starts_at,
        "advisor_name": appt.advisor.name if appt.advisor else "",
        "total_hours": round(sum(j.labour_hours for j in appt.jobs), 2),
        "total_price": round(sum(j.price for j in appt.jobs), 2),
        "jobs": jobs,
        # the deferred items the offer named (outreach/job_lines.py); price None: to quote
        "job_lines": [{"description": j.description, "price": j.price} for j in appt.job_lines],
    }


def opening_text(settings: Settings, locale: str) -> str:
    """The weekly arrival hours, days with the same hours run together: "周一至周五 08:30-17:30，
    周六 09:00-16:00，周日休息" / "Mon-Fri 08:30-17:30, Sat 09:00-16:00, closed Sun"."""
    zh = lang(locale) == "zh-CN"
    names = [f"周{d}" for d in _WEEKDAYS["zh-CN"]] if zh else list(_WEEKDAYS["en"])
    hours = settings.capacity.opening_hours
    runs: list[tuple[int, int, Any]] = []  # (first day, last day, hours)
    for day in range(7):
        if runs and runs[-1][2] == hours.get(day) and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day, runs[-1][2])
        else:
            runs.append((day, day, hours.get(day)))
    parts = []
    for first, last, span in runs:
        days = (
            names[first] if first == last else f"{names[first]}{'至' if zh else '-'}{names[last]}"
        )
        if span is None:
            parts.append(f"{days}休息" if zh else f"closed {days}")
        else:
            parts.append(f"{days} {span[0]:%H:%M}-{span[1]:%H:%M}")
    return ("，" if zh else ", ").join(parts)


def lang(locale: str) -> str:
    return "zh-CN" if locale.startswith("zh") else "en"
