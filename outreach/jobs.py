"""The jobs the scheduler and the command line run, each one unit of work in one transaction.

Every job only decides and writes: what reaches a customer is queued in the outbox in the
same transaction, and the senders deliver it inside the customer's contact window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from outreach import outbox
from outreach.campaigns import campaigns
from outreach.campaigns import post_service_followup as followup_campaign
from outreach.campaigns.day_before import record_reminder, select_day_before
from outreach.campaigns.no_show import mark_no_shows
from outreach.capacity import daily_offer_budget
from outreach.capacity.model import Calendar
from outreach.consent import may_contact
from outreach.conversation import is_followup, start_followup, start_offer
from outreach.conversation.texts import render_text
from outreach.models import Appointment, Outreach, OutreachReason
from outreach.planning import add_outreach, plan_outreach
from outreach.settings import Settings


@dataclass
class CampaignRun:
    today: date
    budget: int
    planned: list[Outreach] = field(default_factory=list)

    def summary(self) -> str:
        by_campaign = Counter(o.campaign for o in self.planned)
        detail = ", ".join(f"{k} {v}" for k, v in sorted(by_campaign.items()))
        return f"{self.today}: planned {len(self.planned)} outreach (budget {self.budget})" + (
            f": {detail}" if detail else ""
        )


def run_campaigns(
    session: Session, settings: Settings, *, today: date, now: datetime, limit: int | None = None
) -> CampaignRun:
    """Plan today's outreach within the workshop's free capacity and queue each first offer.

    The budget is :func:`outreach.capacity.daily_offer_budget` (never more invitations than
    the coming days can absorb), lowered further by ``limit``; customers over the budget wait
    for a later day in due-date order.  Follow-ups after a visit are outside the budget: they
    ask for a rating and hold no slot.
    """
    budget = daily_offer_budget(session, settings, today, now)
    if limit is not None:
        budget = min(budget, limit)
    run = CampaignRun(today=today, budget=budget)
    # Offers wait for free capacity; a follow-up after a visit books nothing, so it never does.
    booking = [name for name in campaigns() if name != followup_campaign.NAME]
    run.planned = plan_outreach(
        session, settings, today=today, now=now, limit=budget, campaigns=booking
    )
    run.planned += plan_outreach(
        session, settings, today=today, now=now, campaigns=[followup_campaign.NAME]
    )
    for outreach in run.planned:
        start = start_followup if is_followup(outreach) else start_offer
        text = start(session, settings, outreach, now=now, channel=outreach.channel)
        outbox.enqueue(
            session,
            settings,
            customer=outreach.customer,
            channel=outreach.channel,
            body=text,
            idempotency_key=f"offer:{outreach.id}",
            now=now,
            template="followup" if start is start_followup else "offer",
            outreach_id=outreach.id,
        )
    return run


def send_confirmations(session: Session, settings: Settings, now: datetime) -> int:
    """Queue the day-before confirmation for every appointment tomorrow; each exactly once."""
    today = Calendar(settings).local_date(now)
    queued = 0
    for appointment in select_day_before(session, settings, today):
        customer = appointment.customer
        if not may_contact(customer, "sms") or not record_reminder(session, appointment, now):
            continue
        text = render_text(
            settings, "reminder", customer=customer, channel="sms", appointment=appointment
        )
        outbox.enqueue(
            session,
            settings,
            customer=customer,
            channel="sms",
            body=text,
            idempotency_key=f"reminder:{appointment.id}:{appointment.starts_at.isoformat()}",
            now=now,
            template="reminder",
        )
        queued += 1
    return queued


def check_no_shows(session: Session, settings: Settings, now: datetime) -> int:
    """Mark missed appointments as no-shows and offer each customer new times."""
    offered = 0
    for appointment in mark_no_shows(session, settings, now):
        if _offer_after_no_show(session, settings, appointment, now):
            offered += 1
    return offered


def _offer_after_no_show(
    session: Session, settings: Settings, appointment: Appointment, now: datetime
) -> bool:
    customer = appointment.customer
    if not may_contact(customer, "sms"):
        return False
    outreach = Outreach(
        customer_id=customer.id,
        vehicle_id=appointment.vehicle_id,
        status="planned",
        channel="sms",
        campaign="no_show",
        planned_on=now.date(),
        context={},
    )
    outreach.reasons = [
        OutreachReason(
            customer_id=customer.id,
            vehicle_id=appointment.vehicle_id,
            campaign="no_show",
            subject_key=f"no_show:appointment:{appointment.id}",
            anchor_on=None,
            due_on=now.date(),
            priority=5,
            reason=f"missed the appointment of {appointment.starts_at.isoformat()}",
            facts={"missed_at": appointment.starts_at.isoformat()},
        )
    ]
    if not add_outreach(session, outreach):
        return False  # already in a conversation, or this no-show was followed up before
    jobs = [j.job_code for j in appointment.jobs] or None
    start_offer(session, settings, outreach, now=now, channel="sms", jobs=jobs)
    slots = (outreach.context or {}).get("slots") or []
    text = render_text(
        settings,
        "no_show",
        customer=customer,
        channel="sms",
        appointment=appointment,
        slot_list=slots,
    )
    outreach.context = {**outreach.context, "offer_text": text}
    outbox.enqueue(
        session,
        settings,
        customer=customer,
        channel="sms",
        body=text,
        idempotency_key=f"no_show:{appointment.id}",
        now=now,
        template="no_show",
        outreach_id=outreach.id,
    )
    return True
