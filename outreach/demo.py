"""``outreach demo``: a sample dealership, today's campaigns, and the exact messages they send.

Everything runs on a SQLite file of its own with the sandbox gateway: nothing leaves the
machine.  The steps are the product's own: write a DMS export, import it, run the campaigns
within the workshop's capacity, and let the senders deliver what the contact window allows.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach import outbox
from outreach.accounts import add_user
from outreach.campaigns import iter_due
from outreach.db import make_engine, make_sessionmaker, transaction
from outreach.demo_china import ChinaDemo, print_sent, start_aliyun_standin
from outreach.demo_data import write_demo_files
from outreach.importer import import_directory
from outreach.jobs import run_campaigns
from outreach.migrate import upgrade
from outreach.models import Customer, OutboxMessage, Outreach
from outreach.planning import merge
from outreach.sandbox import SandboxGateway
from outreach.scheduler import outbox_hooks
from outreach.scripts import measure
from outreach.settings import Settings

DEMO_USER = ("demo", "demo-advisor")  # a desk account in the demo database only


@dataclass
class DemoResult:
    database_url: str
    messages: list[OutboxMessage]
    sent: int


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
) -> DemoResult:
    """Build the sample dealership in ``database_url`` and run today's campaigns on it.

    ``sms="aliyun-standin"`` sends through the Aliyun gateway to a local stand-in, with every
    customer written to in Chinese, and shows each message's template and variables.
    """
    china: ChinaDemo | None = None
    if sms == "aliyun-standin":
        china = start_aliyun_standin(settings)
        settings = china.settings
    tz = settings.tz
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
    echo(f"{settings.dealership.name} — {today:%Y-%m-%d} ({settings.dealership.timezone})")
    echo(
        f"Imported a sample DMS export from {directory}/: {files.customers} customers, "
        f"{files.vehicles} vehicles, {files.visits} visits, {files.deferred} deferred items"
        + (f" ({report.rejected} rows rejected)" if report.rejected else "")
    )
    with sessions() as session:
        contacts = merge(iter_due(session, settings, today))
    reasons = Counter(item.campaign for c in contacts for item in c.items)
    echo(f"\nDue today: {len(contacts)} customers, {sum(reasons.values())} reasons")
    for campaign, count in reasons.most_common():
        echo(f"  {campaign:<24} {count:>4}")
    with transaction(sessions) as session:
        run = run_campaigns(session, settings, today=today, now=now)
    waiting = len(contacts) - len(run.planned)
    echo(
        f"\nWorkshop capacity allows {run.budget} new invitations today: "
        f"{len(run.planned)} queued, {waiting} wait for a later day (earliest due first)."
    )
    # The sandbox sends nothing, so nobody waits for the pacing: the clock just moves on.
    paced = [now]
    stats = outbox.dispatch(
        sessions,
        china.gateway if china is not None else SandboxGateway(sessions),
        settings,
        worker="demo",
        clock=lambda: paced[0],
        sleep=lambda seconds: paced.__setitem__(0, paced[0] + timedelta(seconds=seconds)),
        rng=random.Random(seed),
        hooks=outbox_hooks(),
    )
    with sessions() as session:
        messages = _messages(session)
        _print_messages(session, settings, messages, echo, show)
    held = sum(1 for m in messages if m.status == "queued")
    if china is not None:
        print_sent(china, echo, show)
        china.standin.stop()
    gateway_name = "Aliyun gateway (stand-in)" if china is not None else "Sandbox gateway"
    echo(
        f"\n{gateway_name}: {stats.outcomes.get('sent', 0)} sent now (recorded, nothing left "
        f"the machine); {held} wait for the customer's contact window "
        f"({settings.contact_window.start:%H:%M}-{settings.contact_window.end:%H:%M} their time)."
    )
    echo(
        f"\nExplore it:  DATABASE_URL={database_url} outreach serve\n"
        f"  then open http://127.0.0.1:5000/ and sign in as {DEMO_USER[0]} / {DEMO_USER[1]};\n"
        f"  the phone simulator (/simulator/) lets you answer as any of these customers."
    )
    engine.dispose()
    return DemoResult(database_url, messages, stats.outcomes.get("sent", 0))


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
        when = m.not_before.astimezone(settings.tz)
        echo(
            f"  {customer.external_id}  {customer.name:<16} {customer.locale:<5} {m.channel:<5} "
            f"{m.status:<7} {when:%H:%M}  {campaigns}"
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
