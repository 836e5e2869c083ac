"""Commands: calendar — working days, holidays, workshop opening and contact days, day by day."""

from __future__ import annotations

import json
from datetime import date

import click

from outreach.capacity.model import calendar as workshop_calendar
from outreach.cli.app import DAY, App, pass_app, today_in
from outreach.contact_window import day_open, public_holidays


@click.command("calendar")
@click.option(
    "--from",
    "first",
    type=DAY,
    default=None,
    help="First day (local), YYYY-MM-DD; default today.",
)
@click.option("--days", type=click.IntRange(1, 800), default=14, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per day, in a list.")
@pass_app
def calendar_command(app: App, first: date | None, days: int, as_json: bool) -> None:
    """For each day: working day or not and why, the holiday, workshop open, contact allowed."""
    settings = app.settings
    start = today_in(settings, first)
    workdays = public_holidays(settings)
    workshop = workshop_calendar(settings)
    rows = []
    for wd in workdays.days(start, days):
        closed = workshop.closed_reason(wd.day)
        rows.append(
            {
                "date": wd.day.isoformat(),
                "weekday": wd.day.strftime("%a"),
                "working_day": wd.working,
                "kind": wd.kind,
                "make_up_day": wd.make_up,
                "holiday": wd.holiday,
                "why": wd.why,
                "estimated": wd.estimated,
                "workshop_open": closed is None,
                "workshop_closed_because": closed,
                "contact_allowed": day_open(wd.day, settings.contact_window, workdays),
            }
        )
    if as_json:
        click.echo(json.dumps({"country": workdays.country, "days": rows}, ensure_ascii=False))
        return
    click.echo(f"country {workdays.country}")
    click.echo(f"{'day':<14} {'working':<8} {'workshop':<9} {'contact':<8} why")
    for r in rows:
        why = str(r["why"]) + (" (schedule not yet published: estimated)" if r["estimated"] else "")
        click.echo(
            f"{r['date']} {r['weekday']:<3} {'yes' if r['working_day'] else 'no':<8}"
            f" {'open' if r['workshop_open'] else 'closed':<9}"
            f" {'yes' if r['contact_allowed'] else 'no':<8} {why}"
        )


commands: list[click.Command] = [calendar_command]
