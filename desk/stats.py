"""Campaign results per campaign and week, the appointment rate, and the workshop's load."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from desk.auth import require_user
from desk.charts import bar_chart, funnel_chart
from desk.context import db, now, settings
from desk.i18n import label, t
from outreach.stats import (
    appointment_rate,
    campaign_funnels,
    campaign_stats,
    iso_week,
    workshop_load,
)

bp = Blueprint("stats", __name__, url_prefix="/stats", template_folder="templates")
bp.before_request(require_user)

WEEKS = 8


def stats_window(today: date, weeks: int = WEEKS) -> tuple[date, date]:
    """From the Monday ``weeks - 1`` weeks back to today."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today


@bp.route("/")
def index() -> ResponseReturnValue:
    """Tables and SVG charts of the last weeks' results and the next 14 days' load."""
    tz = settings().tz
    today = now().astimezone(tz).date()
    since, until = stats_window(today)
    rows = campaign_stats(db(), since=since, until=until)
    funnels = [
        (
            f,
            funnel_chart([(t(s.name), s.this_week, s.change) for s in f.stages]),
        )
        for f in campaign_funnels(db(), settings(), today=today)
    ]
    week = iso_week(today)
    todays = [r for r in rows if r.week == week]
    weeks = appointment_rate(db(), since=since, until=until, tz=tz)
    load = workshop_load(db(), today=today, tz=tz)
    booked: dict[str, int] = {}
    for row in rows:
        name = label("campaign", row.campaign)
        booked[name] = booked.get(name, 0) + row.booked
    return render_template(
        "stats/index.html",
        rows=rows,
        funnels=funnels,
        todays=todays,
        week=week,
        weeks=weeks,
        load=load,
        booked_chart=bar_chart(list(booked.items())),
        load_chart=bar_chart([(f"{d.day:%m-%d}", d.hours) for d in load]),
        since=since,
        until=until,
    )
