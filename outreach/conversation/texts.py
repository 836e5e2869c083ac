"""What the bot says: the dealership's scripts, filled with the conversation's facts.

Texts come from :func:`outreach.scripts.render` (the dealership's Jinja2 scripts, whose
variables are documented at the top of each ``.j2`` file).  The conversation's steps carry raw
objects (slot dicts, the Appointment, the reasons); :func:`render_text` shapes them into the
scripts' variables here, in one place.  Every step has a script the dealership can override;
the short built-in wording at the bottom of this module is only a safety net, used (with a
warning in the log) when a script is missing for a channel or cannot take the conversation's
facts, so the customer is never left without an answer.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from outreach.models import Appointment, Customer, OutreachReason, Vehicle
from outreach.scripts import ScriptError, ScriptNotFound, render
from outreach.settings import Settings

_WEEKDAYS = {"zh-CN": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
NEED_LABELS = {
    "zh-CN": ("保养", "维修咨询", "事故车", "维修", "美容装饰"),
    "en": ("maintenance", "a repair question", "an accident car", "a repair", "detailing"),
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
    except ScriptNotFound as exc:
        log.warning("no %s script %s, using the built-in wording: %s", channel, script, exc)
    except ScriptError as exc:
        # A script that cannot take this conversation's facts (say, a confirmation for a
        # customer with no vehicle on file) must not leave the customer without an answer.
        log.warning("script %s/%s failed, using the built-in wording: %s", channel, script, exc)
    flat = {
        **step,
        "customer_name": customer.name,
        "dealership": settings.dealership.name_in(locale),
        "dealership_phone": settings.dealership.phone,
        "dealership_address": settings.dealership.address_in(locale),
        "special_services": list(settings.dealership.special_services.get(locale, [])),
        "slots": [when_text(_at(s), settings, locale) for s in offered],
        "reasons": [reason_text(r, locale) for r in reasons or []],
    }
    if appt is not None:
        shaped = context["appointment"]
        flat.update(
            arrival=when_text(appt.starts_at, settings, locale),
            advisor_name=shaped["advisor_name"],
            duration_hours=shaped["total_hours"],
            price=shaped["total_price"],
            jobs=[j.description for j in appt.jobs],
        )
    return _fallback(name, locale, channel, flat).strip()


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


def when_text(at: datetime, settings: Settings, locale: str) -> str:
    """An arrival time as the customer reads it, in the dealership's zone."""
    local = at.astimezone(settings.tz)
    if lang(locale) == "zh-CN":
        wd = _WEEKDAYS["zh-CN"][local.weekday()]
        return f"{local.month}月{local.day}日(周{wd}) {local:%H:%M}"
    day = _WEEKDAYS["en"][local.weekday()]
    return f"{day} {local.day} {_MONTHS_EN[local.month - 1]} {local:%H:%M}"


def reason_text(reason: OutreachReason, locale: str) -> str:
    """Why we contact the customer, in their language, from the reason's facts."""
    facts = reason.facts or {}
    zh = lang(locale) == "zh-CN"
    if reason.campaign == "maintenance_interval":
        due = facts.get("due_on", str(reason.due_on))
        if facts.get("due_by") == "km":
            km = facts.get("estimated_km")
            return f"估计里程约{km}公里，已到保养里程" if zh else f"about {km} km: due for service"
        return f"距上次保养将满3个月（{due}）" if zh else f"3 months since the last service ({due})"
    if reason.campaign == "deferred_work":
        desc = facts.get("description") or reason.reason
        return f"上次留下的项目：{desc}" if zh else f"left over from your last visit: {desc}"
    if reason.campaign == "seasonal":
        title = (facts.get("title") or {}).get(lang(locale)) or facts.get("window", "")
        return str(title)
    if reason.campaign == "post_service_followup":
        return "上次到店服务回访" if zh else "a follow-up on your last visit"
    return reason.reason


def _numbered(items: list[str], channel: str, zh: bool) -> str:
    if channel == "voice":
        return (
            "；".join(f"按{n}，{s}" for n, s in enumerate(items, 1))
            if zh
            else "; ".join(f"press {n} for {s}" for n, s in enumerate(items, 1))
        )
    return "\n".join(f"{n}. {s}" for n, s in enumerate(items, 1))


def _address(c: dict[str, Any]) -> str:
    return str(c.get("dealership_address") or "")


# The built-in wording of the steps that are one sentence: (zh-CN, en), filled from the flat
# context with str.format_map.
_PHRASES: dict[str, tuple[str, str]] = {
    "no_appointment": ("您目前没有预约。", "You have no upcoming appointment."),
    "ask_time": ("请问您想改到什么时间？", "What time would suit you instead?"),
    "handoff": (
        "好的，我们的服务顾问会尽快给您回电（{dealership_phone}）。",
        "Thanks, a service advisor will call you shortly ({dealership_phone}).",
    ),
    "handoff_pending": (
        "您的消息已转给服务顾问，他们会尽快联系您（{dealership_phone}）。",
        "A service advisor has your message and will contact you shortly ({dealership_phone}).",
    ),
    "late_noted": ("收到，我们会告知服务顾问。", "Thanks, we'll let your service advisor know."),
    "arrival_confirmed": ("好的，期待{arrival}见到您。", "Thank you, see you {arrival}."),
    "extra_work_noted": (
        "已记录追加项目，服务顾问会与您确认。您的预约：{arrival}。",
        "Noted: a service advisor will confirm the extra work for {arrival}.",
    ),
    "declined": (
        "好的，不打扰您了。需要时随时联系我们。",
        "No problem. Contact us whenever you need us.",
    ),
    "opt_out_confirmation": (
        "您已退订，我们不会再发送消息。回复START可恢复。",
        "You are unsubscribed and will get no more messages. Reply START to resubscribe.",
    ),
    "opt_in_confirmation": (
        "您已恢复订阅。回T退订",
        "You are subscribed again. Reply STOP to opt out.",
    ),
    "help": (
        "{dealership}服务热线：{dealership_phone}。回T退订。",
        "{dealership}: call {dealership_phone}. Reply STOP to opt out.",
    ),
    "goodbye": ("感谢接听，再见。", "Thank you, goodbye."),
    "wrong_number": ("抱歉打扰了。", "Sorry to have bothered you."),
    "followup": (
        "感谢您光临{dealership}，请为本次服务打分：回复1-5（5为非常满意）。",
        "Thank you for visiting {dealership}. Please rate our service from 1 to 5 (5 is best).",
    ),
    "followup_reply": ("感谢您的反馈。", "Thank you for your feedback."),
}


def _fallback(name: str, locale: str, channel: str, c: dict[str, Any]) -> str:
    zh = lang(locale) == "zh-CN"
    if name in _PHRASES:
        return _PHRASES[name][0 if zh else 1].format_map(c)
    voice = channel == "voice"
    slots = _numbered(list(c.get("slots", [])), channel, zh)
    stop = "" if voice else ("回T退订" if zh else "Reply STOP to opt out.")
    pick = (
        (
            "请按数字键选择，或直接说出方便的时间；转人工请按0。"
            if zh
            else "Press a number, or say a time that suits you; press 0 for a person."
        )
        if voice
        else (
            "回复序号确认，或回复方便的时间。"
            if zh
            else "Reply with a number, or a time that suits you."
        )
    )
    cancel_hint = (
        "如需取消请回复“取消预约”，改期请回复“改期”。"
        if zh
        else "To cancel reply 'cancel appointment'; to change the time reply 'reschedule'."
    )
    services = (
        "、".join(c.get("special_services", [])) if zh else ", ".join(c.get("special_services", []))
    )
    if name == "offer":
        why = "；".join(c.get("reasons", [])) if zh else "; ".join(c.get("reasons", []))
        if zh:
            head = f"{c['customer_name']}您好，{c['dealership']}提醒您：{why}。"
            body = f"可预约时间：\n{slots}\n{pick}" if c.get("slots") else "请回复您方便的时间。"
        else:
            head = f"Hello {c['customer_name']}, {c['dealership']} here: {why}."
            body = (
                f"Available times:\n{slots}\n{pick}"
                if c.get("slots")
                else "Reply with a time that suits you."
            )
        return f"{head}\n{body}\n{stop}"
    if name == "slot_options":
        intro = (
            ("该时间已约满，最近可约：" if zh else "That time is full. The nearest free times:")
            if c.get("intro") == "full"
            else ("为您找到以下时间：" if zh else "Here are the closest times:")
        )
        if not c.get("slots"):
            return (
                "抱歉，该时间附近已约满，请换个时间。"
                if zh
                else "Sorry, that time is full. Please suggest another."
            )
        return f"{intro}\n{slots}\n{pick}"
    if name == "slot_taken":
        if zh:
            return f"抱歉，您选的时间刚被约满。新的可选时间：\n{slots}\n{pick}"
        return f"Sorry, that time was just taken. New times:\n{slots}\n{pick}"
    if name in ("confirmation", "rescheduled"):
        jobs = "、".join(c["jobs"]) if zh else ", ".join(c["jobs"])
        if zh:
            return (
                f"预约成功：{c['arrival']}到店，服务顾问{c['advisor_name']}接待。"
                f"项目：{jobs}，预计{c['duration_hours']:g}小时，参考价格{c['price']:g}元。"
                f"需要指定主修技师吗？我们提供：{services}，需要请告诉我们。"
                f"请携带随车文件（行驶证、保养手册）和随车工具。" + ("" if voice else cancel_hint)
            )
        return (
            f"Booked: arrive {c['arrival']}, your service advisor is {c['advisor_name']}. "
            f"Work: {jobs}, about {c['duration_hours']:g} h, estimated price {c['price']:g}. "
            f"Would you like a designated technician? We also offer: {services}. "
            f"Please bring the vehicle documents and tools. " + ("" if voice else cancel_hint)
        )
    if name == "cancelled":
        return (
            f"已为您取消{c['arrival']}的预约。需要时回复“预约”即可重新安排。"
            if zh
            else f"Your appointment on {c['arrival']} is cancelled. Reply 'book' to rebook."
        )
    if name == "ask_need":
        needs = _numbered(list(NEED_LABELS[lang(locale)]), channel, zh)
        return (
            f"您好，这里是{c['dealership']}。请问您需要：\n{needs}"
            if zh
            else f"Hello, {c['dealership']} here. What do you need?\n{needs}"
        )
    if name == "clarify":
        if c.get("slots"):
            return (
                f"抱歉没看懂。请回复序号选择时间：\n{slots}\n或告诉我们方便的时间。"
                if zh
                else f"Sorry, I didn't get that. Reply with a number:\n{slots}\nor tell us a time."
            )
        return (
            "抱歉没看懂，请告诉我们您方便的时间，或回复“人工”。"
            if zh
            else "Sorry, I didn't get that. Tell us a time that suits you, or reply 'call me'."
        )
    if name == "which_option":
        return f"请回复序号选择：\n{slots}" if zh else f"Which one? Reply with a number:\n{slots}"
    if name == "noted":
        facts = c.get("noted") or {}
        parts = [f"{facts['mileage_km']} km"] if facts.get("mileage_km") is not None else []
        parts += [str(facts["fault"])] if facts.get("fault") else []
        what = ("，" if zh else ", ").join(parts)
        more = f"\n{pick}\n{slots}" if c.get("slots") else ""
        return f"已记录：{what}。{more}" if zh else f"Noted: {what}.{more}"
    if name == "answer":
        a = c.get("answer") or {}
        if a.get("topic") == "price":
            return (
                f"参考价格{a['price']:g}元。" if zh else f"The estimated price is {a['price']:g}."
            )
        if a.get("topic") == "duration":
            return f"预计{a['hours']:g}小时。" if zh else f"It takes about {a['hours']:g} hours."
        if a.get("topic") == "hours":
            return f"到店时间：{a['opening']}。" if zh else f"We receive cars {a['opening']}."
        return str(_address(c))
    if name == "already_booked":
        return (
            f"您已预约{c['arrival']}，服务顾问{c['advisor_name']}。" + cancel_hint
            if zh
            else f"You are booked for {c['arrival']} with {c['advisor_name']}. " + cancel_hint
        )
    raise LookupError(f"no script named {name!r}")
