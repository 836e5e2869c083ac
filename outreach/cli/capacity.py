"""Commands: capacity — the workshop's load per day, for a manager to see the week at a glance."""

from __future__ import annotations

from datetime import date

import click

from outreach.capacity.report import day_loads
from outreach.cli.app import DAY, App, pass_app, today_in


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


@click.command("capacity")
@click.option(
    "--from",
    "first",
    type=DAY,
    default=None,
    help="First day (local), YYYY-MM-DD; default today.",
)
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True)
@pass_app
def capacity(app: App, first: date | None, days: int) -> None:
    """Print booked / held / free labour hours and arrival places per day."""
    settings = app.settings
    start = today_in(settings, first)
    with app.sessions() as session:
        loads = day_loads(session, settings, start, days)
    click.echo(
        f"{'day':<14} {'booked h':>8} {'held h':>7} {'free h':>7} {'of h':>6}"
        f" {'arrivals':>9} {'free':>5}"
    )
    for d in loads:
        label = f"{d.day.isoformat()} {d.day.strftime('%a')}"
        if d.closed:
            click.echo(f"{label:<14} closed ({d.closed})")
            continue
        click.echo(
            f"{label:<14} {_hours(d.booked_minutes):>8} {_hours(d.held_minutes):>7}"
            f" {_hours(d.free_minutes):>7} {_hours(d.labour_minutes):>6}"
            f" {d.arrivals_used:>4}/{d.arrival_places:<4} {d.arrivals_free:>5}"
        )


commands: list[click.Command] = [capacity]
