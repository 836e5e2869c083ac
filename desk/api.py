"""The JSON API for a DMS or BI tool: callbacks, appointments of a day, campaign results."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from desk.auth import require_user
from desk.context import db, now, settings
from desk.stats import stats_window
from outreach.advisor_queue import list_callbacks
from outreach.appointment_board import BoardRow, appointments_on
from outreach.callbacks import reason as callback_reason
from outreach.stats import appointment_rate, campaign_funnels, campaign_stats, workshop_load

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(require_user)


@bp.after_request
def commit(response: Any) -> Any:
    # The only write here is a token's last_used_at; keep it when the answer went well.
    if response.status_code < 400:
        db().commit()
    return response


@bp.route("/callbacks")
def callbacks() -> ResponseReturnValue:
    """The callback queue, waiting entries first."""
    waiting, later = list_callbacks(db(), now=now())
    return jsonify(
        callbacks=[
            {
                "id": e.callback.id,
                "customer_id": e.customer.id,
                "customer_name": e.customer.name,
                "phone": e.customer.phone,
                "reason": e.callback.reason,
                "reason_label": {
                    "zh-CN": callback_reason(e.callback.reason).zh,
                    "en": callback_reason(e.callback.reason).en,
                },
                "priority": e.callback.priority,
                "status": e.callback.status,
                "detail": e.callback.detail,
                "created_at": _iso(e.callback.created_at),
                "call_again_at": _iso(e.callback.call_again_at),
                "age_minutes": int(e.age.total_seconds() // 60),
                "target_minutes": int(e.target.total_seconds() // 60),
                "overdue": now_waiting and e.overdue,
                "claimed_by": e.claimed_by.username if e.claimed_by else None,
                "waiting": now_waiting,
            }
            for entries, now_waiting in ((waiting, True), (later, False))
            for e in entries
        ]
    )


def _iso(value: Any) -> str | None:
    """An instant in the dealership's zone, with its offset (``2025-03-10T09:57:00+08:00``)."""
    return value.astimezone(settings().tz).isoformat() if value is not None else None


def _appointment(row: BoardRow) -> dict[str, Any]:
    a = row.appointment
    return {
        "id": a.id,
        "starts_at": _iso(a.starts_at),
        "local_start": row.local_start.isoformat(),
        "status": a.status,
        "source": a.source,
        "advisor": a.advisor.code if a.advisor else None,
        "customer": {"id": a.customer.id, "name": a.customer.name, "phone": a.customer.phone},
        "vehicle": (
            {"id": a.vehicle.id, "plate": a.vehicle.plate, "model": a.vehicle.model}
            if a.vehicle
            else None
        ),
        "jobs": [
            {"code": j.job_code, "description": j.description, "hours": j.labour_hours}
            for j in a.jobs
        ],
        "job_lines": [
            {"description": j.description, "price": j.price, "deferred_item_id": j.deferred_item_id}
            for j in a.job_lines
        ],
        "hours": row.hours,
        "designated_technician": a.designated_technician,
        "mileage_reported_km": a.mileage_reported_km,
        "faults_reported": a.faults_reported,
        "special_services": a.special_services,
        "notes": a.notes,
        "confirmed_at": _iso(a.confirmed_at),
    }


@bp.route("/appointments")
def appointments() -> ResponseReturnValue:
    """Active appointments of ``?date=YYYY-MM-DD`` (default today, dealership time)."""
    tz = settings().tz
    raw = request.args.get("date")
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            return jsonify(error=f"date must be YYYY-MM-DD, got {raw!r}"), 400
    else:
        day = now().astimezone(tz).date()
    rows = appointments_on(db(), day, tz=tz)
    return jsonify(date=day.isoformat(), appointments=[_appointment(r) for r in rows])


@bp.route("/campaigns/stats")
def campaign_results() -> ResponseReturnValue:
    """Per campaign and ISO week for the last 8 weeks, the appointment rate and 14 days' load."""
    tz = settings().tz
    today = now().astimezone(tz).date()
    since, until = stats_window(today)
    return jsonify(
        since=since.isoformat(),
        until=until.isoformat(),
        campaigns=[row.as_dict() for row in campaign_stats(db(), since=since, until=until)],
        funnels=[
            {
                "campaign": f.campaign,
                "week": f.week,
                "waiting": f.waiting,
                "stages": [
                    {"stage": st.name, "this_week": st.this_week, "last_week": st.last_week}
                    for st in f.stages
                ],
            }
            for f in campaign_funnels(db(), settings(), today=today)
        ],
        appointment_rate=[
            {
                "week": w.week,
                "visits": w.visits,
                "by_appointment": w.by_appointment,
                "appointment_rate": w.appointment_rate,
            }
            for w in appointment_rate(db(), since=since, until=until, tz=tz)
        ],
        workshop_load=[
            {"date": d.day.isoformat(), "appointments": d.appointments, "hours": d.hours}
            for d in workshop_load(db(), today=today, tz=tz)
        ],
    )
