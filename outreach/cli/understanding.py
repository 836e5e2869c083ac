"""``outreach understand "TEXT"``: how the bot reads one reply, as JSON (normalised text, the
slots it carries, the intent and the rule of the precedence table that decided)."""

from __future__ import annotations

import json
from datetime import datetime

import click

from outreach.cli.app import App, pass_app
from outreach.conversation.understand import RULES, STATES, understand
from outreach.settings import LOCALES


@click.command("understand")
@click.argument("text")
@click.option(
    "--locale",
    type=click.Choice(LOCALES),
    default=None,
    help="The customer's language (both lexicons are read: customers mix them).",
)
@click.option(
    "--state",
    type=click.Choice(STATES),
    default="none",
    show_default=True,
    help="The conversation's state when the reply comes.",
)
@click.option(
    "--options",
    type=click.IntRange(0, 9),
    default=3,
    show_default=True,
    help="How many numbered options are on offer (state offer).",
)
@click.option(
    "--now",
    "now_text",
    default=None,
    help="The local time the reply comes (ISO, default now): days are relative.",
)
@pass_app
def understand_command(
    app: App, text: str, locale: str | None, state: str, options: int, now_text: str | None
) -> None:
    """Print how the bot reads TEXT in STATE, as JSON."""
    tz = app.settings.tz
    try:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(tz)
    except ValueError:
        raise click.BadParameter(
            f"not an ISO date and time: {now_text!r}", param_hint="--now"
        ) from None
    now = now if now.tzinfo else now.replace(tzinfo=tz)
    offered = options if state == "offer" else 5 if state == "followup" else 0
    intent = understand(text, now_local=now.astimezone(tz), options=offered, state=state)
    why = next((r.why for r in RULES if r.name == intent.rule), "no rule held")
    slots = intent.slots.as_json() if intent.slots else {}
    out = {
        "text": text,
        "locale": locale or app.settings.dealership.default_locale,
        "state": state,
        "normalised": intent.slots.norm if intent.slots else "",
        "slots": slots,
        "intent": intent.kind,
        "rule": intent.rule,
        "why": why,
        "option": intent.option,
        "rating": intent.rating,
        "because": intent.because,
        "need": intent.need,
        "topic": intent.topic,
    }
    click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))


commands = [understand_command]
