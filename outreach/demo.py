"""``outreach demo``: a sample dealership, today's campaigns, and the exact messages they send.

Everything runs on a SQLite file of its own with the sandbox gateway: nothing leaves the
machine.  The steps are the product's own: write a DMS export, import it, run the campaigns
within the workshop's capacity, and let the senders deliver what the contact window allows.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from outreach import delivery, outbox
from outreach.accounts import add_user
from outreach.campaigns import iter_due
from outreach.capacity.pacing import FOLLOWUP, free_places
from outreach.contact_window import day_open, public_holidays
from outreach.conversation import handle_sms
from outreach.db import make_engine, make_sessionmaker, transaction
from outreach.demo_china import ChinaDemo, print_sent, start_aliyun_standin
from outreach.demo_data import write_demo_files
from outreach.importer import import_directory
from outreach.jobs import CampaignRun, run_campaigns
from outreach.migrate import upgrade
from outreach.models import OUTREACH_OPEN, Customer, OutboxMessage, Outreach, SandboxMessage
from outreach.planning import merge
from outreach.sandbox import SandboxGateway
from outreach.scheduler import outbox_hooks
from outreach.scripts import measure
from outreach.settings import Settings

DEMO_USER = ("demo", "demo-advisor")  # a desk account in the demo database only
DEMO_HOUR = time(10, 0)  # the demo's clock: mid-morning in the dealership's zone
REPLY_GAP = timedelta(minutes=25)  # between the customers' replies the demo plays

# What customers answer, played in each language: (kind of reply, zh-CN, en).
REPLIES = (
    ("booking", "1", "1"),
    (
        "complaint",
        "投诉：上次保养完车子还是有异响，太失望了",
        "This is unacceptable, the car still makes the same noise after your service",
    ),
    (
        "question",
        "请问保养大概要多久？要带什么吗",
        "How long does the service take? Do I need to bring anything?",
    ),
)


@dataclass
class DemoResult:
    database_url: str
    now: datetime
    messages: list[OutboxMessage]
    sent: int
    replies: list[tuple[str, str, str, str | None]] = field(default_factory=list)


def demo_clock(settings: Settings, real_now: datetime) -> datetime:
    """The demo's "now": the latest 10:00 (dealership's zone) on a contact day, not after
    ``real_now``, and early enough for the customers' replies to have come in by ``real_now``.

    Whatever the hour the demo is run, its messages go out inside the contact window and its
    customers answer, so the desk shows a working morning; nothing is dated in the future.
    """
    holidays = public_holidays(settings)
    day = real_now.astimezone(settings.tz).date()
    for _ in range(30):
        at = datetime.combine(day, DEMO_HOUR, settings.tz)
        if at + REPLY_GAP * (len(REPLIES) + 1) <= real_now and day_open(
            day, settings.contact_window, holidays
        ):
            break
        day -= timedelta(days=1)
    return at.astimezone(UTC)


def run_demo(
    settings: Settings,
    *,
    database_url: str,
    directory: Path,
    now: datetime,
    customers: int,
    seed: int,
    echo: Callable[[str], None],
    show: int,
    sms: str = "sandbox",
    desk_command: str = "outreach serve",
    desk_url: str = "http://127.0.0.1:5000/",
) -> DemoResult:
    """Build the sample dealership in ``database_url`` and run a morning of it.

    ``now`` is the real time; the demo runs at :func:`demo_clock` of it.  ``desk_command``
    opens the desk from here (``.venv/bin/outreach serve``): the closing hint is pasted as is.
    ``sms="aliyun-standin"`` sends through the Aliyun gateway to a local stand-in, with every
    customer written to in Chinese, and shows each message's template and variables.
    """
    china: ChinaDemo | None = None
    if sms == "aliyun-standin":
        china = start_aliyun_standin(settings)
        settings = china.settings
    tz = settings.tz
    real_now, now = now, demo_clock(settings, now)
    today = now.astimezone(tz).date()
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    files = write_demo_files(directory, today=today, customers=customers, seed=seed)
    with transaction(sessions) as session:
        report = import_directory(session, settings, directory, now=now)
        add_user(session, DEMO_USER[0], DEMO_USER[1], role="advisor", advisor_code="A01")
        if china is not None:  # registered templates are zh-CN, and there are no calls
            session.execute(update(Customer).values(locale="zh-CN", preferred_channel="sms"))
    echo(
        f"{settings.dealership.name} — {today:%Y-%m-%d} {now.astimezone(tz):%H:%M} "
        f"({settings.dealership.timezone}; the demo's clock, inside the contact window)"
    )
    echo(
        f"Imported a sample DMS export from {directory}/: {files.customers} customers, "
        f"{files.vehicles} vehicles, {files.visits} visits, {files.deferred} deferred items"
        + (f" ({report.rejected} rows rejected)" if report.rejected else "")
    )
    with sessions() as session:
        contacts = merge(iter_due(session, settings, today))
        places = free_places(session, settings, today, now)
    reasons = Counter(item.campaign for c in contacts for item in c.items)
    echo(f"\nDue today: {len(contacts)} customers, {sum(reasons.values())} reasons")
    for campaign, count in reasons.most_common():
        echo(f"  {campaign:<24} {count:>4}")
    with transaction(sessions) as session:
        run = run_campaigns(session, settings, today=today, now=now)
    echo("\n" + explain_budget(settings, run, places, len(contacts)))
    gateway = china.gateway if china is not None else SandboxGateway(sessions, clock=lambda: now)
    # The sandbox sends nothing, so nobody waits for the pacing: the clock just moves on.
    paced = [now]
    stats = outbox.dispatch(
        sessions,
        gateway,
        settings,
        worker="demo",
        clock=lambda: paced[0],
        sleep=lambda seconds: paced.__setitem__(0, paced[0] + timedelta(seconds=seconds)),
        rng=random.Random(seed),
        hooks=outbox_hooks(),
    )
    _deliver(sessions, now + timedelta(minutes=1))
    with sessions() as session:
        messages = _messages(session)
        _print_messages(session, settings, messages, echo, show)
    held = sum(1 for m in messages if m.status == "queued")
    if china is not None:
        print_sent(china, echo, show)
        china.standin.stop()
    gateway_name = "Aliyun gateway (stand-in)" if china is not None else "Sandbox gateway"
    echo(
        f"\n{gateway_name}: {stats.outcomes.get('sent', 0)} sent (recorded and marked "
        f"delivered; nothing left the machine); {held} wait for the customer's contact window "
        f"({settings.contact_window.start:%H:%M}-{settings.contact_window.end:%H:%M} their time)."
    )
    replies = _play_replies(sessions, settings, messages, now + REPLY_GAP, real_now, echo)
    echo(
        f"\nOpen the advisors' desk on this data:\n"
        f"  DATABASE_URL={database_url} {desk_command}\n"
        f"then {desk_url} — sign in as {DEMO_USER[0]} / {DEMO_USER[1]}: the callback "
        f"queue, the appointment board, the campaign stats, and the phone simulator "
        f"(/simulator/) to answer as any customer above."
    )
    engine.dispose()
    return DemoResult(database_url, now, messages, stats.outcomes.get("sent", 0), replies)


def explain_budget(settings: Settings, run: CampaignRun, places: int, due: int) -> str:
    """Why this many invitations today, in words a service manager reads once."""
    pacing = settings.capacity.pacing
    followups = sum(1 for o in run.planned if o.campaign == FOLLOWUP)
    invited = len(run.planned) - followups
    waiting = max(0, due - len(run.planned))
    lines = [
        f"Workshop capacity: the next {pacing.days} days can still take about {places} visits, "
        f"so {run.budget} customers may be invited today (free visits spread over "
        f"{pacing.days} days, at most {pacing.max_offers_per_day} a day) — the rest of the "
        "room is left for tomorrow's due customers and for customers who call in.",
        f"Invited now: {invited}"
        + (
            f"; plus {followups} thank-you follow-up{'s' if followups != 1 else ''} after a "
            "visit, which book no slot and so are not counted"
            if followups
            else ""
        )
        + f". {waiting} wait for a later day, earliest due first.",
    ]
    return "\n".join(lines)


def _deliver(sessions: sessionmaker[Session], now: datetime) -> None:
    """Play the provider's status callbacks: every message the sandbox recorded is delivered,
    every call answered (as Twilio would report them to the webhooks)."""
    with transaction(sessions) as session:
        for row in session.scalars(select(SandboxMessage).order_by(SandboxMessage.id)):
            status = "completed" if row.kind == "voice" else "delivered"
            delivery.record_status(session, sid=row.sid, status=status, error_code=None, now=now)


def _play_replies(
    sessions: sessionmaker[Session],
    settings: Settings,
    messages: list[OutboxMessage],
    now: datetime,
    real_now: datetime,
    echo: Callable[[str], None],
) -> list[tuple[str, str, str, str | None]]:
    """A few customers who received an SMS offer answer it: a booking, a complaint, a question.

    Only offers that went out are answered: nobody replies to a message still waiting.
    """
    played: list[tuple[str, str, str, str | None]] = []
    answered: set[int] = set()
    echo("\nReplies this morning (as the customers' phones would send them):")
    for n, (kind, zh, en) in enumerate(REPLIES):
        with transaction(sessions) as session:
            pick = _next_recipient(
                session, messages, answered, english=n == 1, deferred=kind == "booking"
            )
            if pick is None:
                continue
            customer = pick
            answered.add(customer.id)
            body = en if customer.locale == "en" else zh
            if kind == "booking":  # the first offered time still ahead when the desk opens
                body = _upcoming_choice(session, customer, real_now) or body
            at = now + REPLY_GAP * n
            reply = handle_sms(
                session, settings, from_phone=customer.phone, body=body,
                message_sid=f"SMdemo{n:030d}", now=at,
            )  # fmt: skip
            local = at.astimezone(settings.tz)
            echo(f"\n  {local:%H:%M} {customer.name} ({customer.external_id}, {kind}): {body}")
            if reply.text:
                echo("  bot: " + reply.text.replace("\n", "\n       "))
            if reply.handoff:
                echo("  -> in the advisors' callback queue")
            played.append((kind, customer.external_id, body, reply.text))
    return played


def _upcoming_choice(session: Session, customer: Customer, real_now: datetime) -> str | None:
    """The number of the first slot offered to ``customer`` that starts after ``real_now``."""
    outreach = session.scalars(
        select(Outreach)
        .where(Outreach.customer_id == customer.id, Outreach.status.in_(OUTREACH_OPEN))
        .order_by(Outreach.id.desc())
    ).first()
    offered = ((outreach.context or {}).get("slots") or []) if outreach else []
    for number, slot in enumerate(offered, 1):
        if datetime.fromisoformat(slot["starts_at"]) > real_now + timedelta(hours=1):
            return str(number)
    return None


def _next_recipient(
    session: Session,
    messages: list[OutboxMessage],
    answered: set[int],
    *,
    english: bool,
    deferred: bool = False,
) -> Customer | None:
    """The next customer whose SMS offer was delivered (an English one if ``english`` and any;
    with ``deferred``, one whose offer names recommended work, so the booking has job lines)."""
    candidates: list[Customer] = []
    recommended: set[int] = set()
    for m in messages:
        if m.channel != "sms" or m.status != "sent" or m.customer_id in answered:
            continue
        outreach = session.get(Outreach, m.outreach_id)
        if (
            outreach is None
            or outreach.campaign == FOLLOWUP
            or outreach.status not in OUTREACH_OPEN
        ):
            continue
        customer = session.get(Customer, m.customer_id)
        if customer is not None:
            candidates.append(customer)
            if any(r.deferred_item_id is not None for r in outreach.reasons):
                recommended.add(customer.id)
    if deferred and recommended:
        candidates = [c for c in candidates if c.id in recommended]
    preferred = [c for c in candidates if (c.locale == "en") == english]
    chosen = preferred or candidates
    return chosen[0] if chosen else None


def _messages(session: Session) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .join(Outreach, Outreach.id == OutboxMessage.outreach_id)
            .order_by(OutboxMessage.id)
        )
    )


def _print_messages(
    session: Session,
    settings: Settings,
    messages: list[OutboxMessage],
    echo: Callable[[str], None],
    show: int,
) -> None:
    echo("\nWho is contacted (first contact of each conversation):")
    shown: list[OutboxMessage] = []
    seen: set[tuple[str, str]] = set()
    for m in messages:
        customer = session.get(Customer, m.customer_id)
        outreach = session.get(Outreach, m.outreach_id)
        assert customer is not None and outreach is not None  # noqa: S101 - joined above
        campaigns = "+".join(dict.fromkeys(r.campaign for r in outreach.reasons))
        echo(
            f"  {customer.external_id}  {customer.name:<16} {customer.locale:<5} {m.channel:<5} "
            f"{m.status:<7} {_when(m, customer, settings)}  {campaigns}"
        )
        kind = (customer.locale, m.channel)
        if len(shown) < show and (kind not in seen or len(messages) <= show):
            seen.add(kind)
            shown.append(m)
    for m in shown:
        customer = session.get(Customer, m.customer_id)
        assert customer is not None  # noqa: S101 - read above
        size = measure(m.body)
        label = (
            "call, read aloud"
            if m.channel == "voice"
            else (f"SMS, {size.encoding}, {size.units} characters, {size.segments} segments")
        )
        echo(f"\n— to {customer.name} ({customer.phone}, {label}):\n{m.body}")


def _when(m: OutboxMessage, customer: Customer, settings: Settings) -> str:
    """When the message goes: the dealership's time, or the customer's own, labelled."""
    if customer.timezone == settings.dealership.timezone:
        return f"{m.not_before.astimezone(settings.tz):%H:%M}"
    local = m.not_before.astimezone(ZoneInfo(customer.timezone))
    return f"{local:%a %H:%M} their time ({customer.timezone})"
