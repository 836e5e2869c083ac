"""Commands for campaigns: ``due`` lists who is due and why; ``campaigns run`` plans outreach."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

import click

from outreach.campaigns import campaigns as all_campaigns
from outreach.campaigns import iter_due
from outreach.cli.app import DAY, App, pass_app, today_in
from outreach.jobs import run_campaigns


@click.command("due")
@click.option("--on", "on", type=DAY, help="The day (default: today).")
@click.option("--campaign", "names", multiple=True, help="Only this campaign (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of due items.")
@pass_app
def due(app: App, on: date | None, names: tuple[str, ...], as_json: bool) -> None:
    """List who is due on a day, for which campaign, and why."""
    known = all_campaigns()
    for name in names:
        if name not in known:
            raise click.BadParameter(
                f"{name!r}; known: {', '.join(known)}", param_hint="--campaign"
            )
    today = today_in(app.settings, on)
    counts: Counter[str] = Counter()
    with app.sessions() as session:
        items = iter_due(session, app.settings, today, names or None)
        if as_json:
            click.echo("[", nl=False)
            for n, item in enumerate(items):
                click.echo(
                    ("," if n else "") + "\n" + json.dumps(item.as_json(), ensure_ascii=False),
                    nl=False,
                )
            click.echo("\n]")
            return
        for item in items:
            counts[item.campaign] += 1
            click.echo(
                f"{item.customer_ref:<12} {item.vehicle_ref or '-':<12} {item.campaign:<22} "
                f"{item.due_on}  {item.reason}"
            )
    total = sum(counts.values())
    summary = ", ".join(f"{name} {counts[name]}" for name in known if counts[name])
    click.echo(f"{total} due on {today}" + (f" ({summary})" if summary else ""), err=True)


@click.group("campaigns")
def campaigns_group() -> None:
    """Run the campaigns."""


@campaigns_group.command("list")
@pass_app
def list_campaigns(app: App) -> None:
    """The campaigns and whether they are enabled."""
    config = app.settings.campaigns
    for name in all_campaigns():
        state = "enabled" if getattr(config, name).enabled else "disabled"
        click.echo(f"{name:<24} {state}")


@campaigns_group.command("run")
@click.option("--on", "on", type=DAY, help="The day (default: today).")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many new outreach.")
@pass_app
def run(app: App, on: date | None, limit: int | None) -> None:
    """Plan today's outreach and queue the first contact of each (paced by capacity)."""
    today = today_in(app.settings, on)
    now = datetime.now(UTC)
    with app.sessions() as session, session.begin():
        result = run_campaigns(session, app.settings, today=today, now=now, limit=limit)
    click.echo(result.summary())


commands: list[click.Command] = [due, campaigns_group]
