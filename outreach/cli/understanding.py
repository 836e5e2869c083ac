"""``outreach understand "TEXT"``: how the bot reads one reply, as JSON (normalised text, the
slots it carries, the intent and the rule of the precedence table that decided)."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo

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
@click.option(
    "--offered",
    "offered_text",
    multiple=True,
    help="A time on offer (ISO, local), once per option in order (state offer).",
)
@pass_app
def understand_command(
    app: App,
    text: str,
    locale: str | None,
    state: str,
    options: int,
    now_text: str | None,
    offered_text: tuple[str, ...],
) -> None:
    """Print how the bot reads TEXT in STATE, as JSON."""
    tz = app.settings.tz
    now = _local(now_text, tz, "--now") if now_text else datetime.now(tz)
    starts = tuple(_local(t, tz, "--offered") for t in offered_text)
    if starts:
        options = len(starts)
    offered = options if state == "offer" else 5 if state == "followup" else 0
    intent = understand(text, now_local=now, options=offered, state=state, offered=starts)
    why = next((r.why for r in RULES if r.name == intent.rule), "no rule held")
    guess = intent.guess
    if guess is not None:
        held = f"over the rule {intent.overruled!r}" if intent.overruled else "no rule held"
        why = f"the model trained on our labelled replies, {guess.confidence:.0%} sure ({held})"
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
        "model": {"confidence": round(guess.confidence, 3), "because": list(guess.because)}
        if guess
        else None,
    }
    click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))


def _local(text: str, tz: tzinfo, option: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"not an ISO date and time: {text!r}", param_hint=option) from None
    return (when if when.tzinfo else when.replace(tzinfo=tz)).astimezone(tz)


commands = [understand_command]
