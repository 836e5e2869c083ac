"""One canonical example context per script: what the tests render and ``scripts preview`` shows.

Plain data only (dicts, lists, dates, aware UTC datetimes), shaped as each ``.j2`` file's
header describes; the dealership's own values (name, phone, address, special services, job
prices, advisors, seasonal titles) come from the settings, as they do in real use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from outreach.callbacks import reason as callback_reason
from outreach.campaigns.seasonal import occurrence
from outreach.settings import Settings

_PEOPLE = {
    "zh-CN": {"customer": "李雷", "model": "大众朗逸", "advisor": "王芳"},
    "en": {"customer": "Tom Baker", "model": "Volkswagen Lavida", "advisor": "Fang Wang"},
}
_DEFERRED = {
    "zh-CN": "后刹车片剩余30%",
    "en": "rear brake pads (30% left)",
}
_SEASONAL = {"zh-CN": "冬季检查（电瓶、防冻液、轮胎）", "en": "pre-winter check"}

# Monday 30 November 2026, 09:30 / 14:00 and Tuesday 1 December, 10:15 in Shanghai (UTC+8).
SLOT_TIMES = (
    datetime(2026, 11, 30, 1, 30, tzinfo=UTC),
    datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
    datetime(2026, 12, 1, 2, 15, tzinfo=UTC),
)

# What each script reads besides what render() always gives (locale, channel, tz, dealership).
NEEDS: dict[str, tuple[str, ...]] = {
    "offer": ("customer", "vehicle", "reasons", "slots"),
    "confirmation": ("customer", "vehicle", "appointment"),
    "reminder": ("customer", "vehicle", "appointment"),
    "followup": ("customer", "vehicle", "visit_on"),
    "followup_reply": ("reply",),
    "no_show": ("customer", "vehicle", "appointment", "slots"),
    "clarify": ("slots",),
    "handoff": ("customer",),
    "complaint": ("customer", "call_within"),
    "handoff_pending": ("customer",),
    "slot_taken": ("slots",),
    "no_slots": ("customer",),
    "decline_ack": ("customer", "because"),
    "cancelled": ("appointment",),
    "rescheduled": ("appointment",),
    "inbound_greeting": ("customer",),
    "gather_retry": ("slots",),
    "slot_options": ("slots", "intro"),
    "which_option": ("slots",),
    "noted": ("noted", "slots"),
    "channel_noted": ("only_channel", "slots"),
    "answer": ("answer", "slots"),
    "already_booked": ("appointment",),
    "arrival_confirmed": ("customer", "appointment"),
    "late_noted": ("appointment",),
    "extra_work_noted": ("appointment",),
    "preference_noted": ("technician", "services", "slots"),
}
_FAULT = {"zh-CN": "刹车有异响", "en": "the brakes squeak"}


EXAMPLE_DAY = date(2026, 11, 27)


def example_reasons(settings: Settings, locale: str) -> dict[str, dict[str, Any]]:
    """One example reason per campaign, keyed by campaign name."""
    windows = [w for w in settings.campaigns.seasonal.windows if occurrence(w, EXAMPLE_DAY)]
    title: str | dict[str, str] = windows[0].title if windows else _SEASONAL[locale]
    reasons: list[dict[str, Any]] = [
        {
            "campaign": "maintenance_interval",
            "due_on": date(2026, 12, 1),
            "overdue": False,
            "due_by": "time",
            "last_service_on": date(2026, 9, 1),
            "last_service_km": 20_000,
            "estimated_km": 23_600,
        },
        {
            "campaign": "deferred_work",
            "description": _DEFERRED[locale],
            "severity": "safety",
            "due_by": date(2026, 12, 15),
            "overdue": False,
        },
        {"campaign": "seasonal", "title": title},
        {"campaign": "post_service_followup", "visit_on": date(2026, 11, 25)},
    ]
    return {r["campaign"]: r for r in reasons}


def _appointment(settings: Settings, locale: str) -> dict[str, Any]:
    jobs_config = settings.capacity.job_types
    jobs = [
        {
            "description": job.description,
            "labour_hours": job.labour_hours,
            "price": job.price,
        }
        for code in ("maintenance", "brake_pads")
        if (job := jobs_config.get(code)) is not None
    ] or [{"description": "常规保养" if locale == "zh-CN" else "routine service",
           "labour_hours": 1.5, "price": 680}]  # fmt: skip
    advisors = settings.capacity.advisors
    return {
        "starts_at": SLOT_TIMES[0],
        "advisor_name": advisors[0].name if advisors else _PEOPLE[locale]["advisor"],
        "jobs": jobs,
        "total_hours": sum(j["labour_hours"] for j in jobs),
        "total_price": sum(j["price"] for j in jobs),
    }


def example_context(name: str, locale: str, settings: Settings) -> dict[str, Any]:
    """The example context for script ``name`` in ``locale`` (scripts with no variables: {})."""
    people = _PEOPLE["zh-CN" if locale.startswith("zh") else "en"]
    reasons = example_reasons(settings, locale)
    everything: dict[str, Any] = {
        "customer": {"name": people["customer"]},
        "vehicle": {"plate": "沪A12345", "model": people["model"]},
        # A customer due for two reasons at once, merged into one contact: the common long case.
        "reasons": [reasons["maintenance_interval"], reasons["deferred_work"]],
        "slots": [{"number": n, "starts_at": at} for n, at in enumerate(SLOT_TIMES, 1)],
        "appointment": _appointment(settings, locale),
        "visit_on": date(2026, 11, 25),
        "intro": "full",
        "because": None,
        "reply": "thanks",
        "technician": "张师傅" if locale.startswith("zh") else "Mr Zhang",
        "services": ["洗车"] if locale.startswith("zh") else ["car wash"],
        "noted": {
            "mileage_km": 35_000,
            "fault": _FAULT["zh-CN" if locale.startswith("zh") else "en"],
        },
        "answer": {"topic": "price", "price": 680, "hours": 1.5},
        "only_channel": "sms",
        "call_within": callback_reason("complaint").target_minutes,
    }
    return {key: everything[key] for key in NEEDS.get(name, ())}
