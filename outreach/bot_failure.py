"""When the bot fails on a customer's message or call: an advisor calls back, the customer
gets an apology in their language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.callbacks import queue_callback
from outreach.models import CallbackRequest, Customer

APOLOGY = {
    "zh-CN": "抱歉，我们暂时无法自动处理您的回复。服务顾问会尽快给您回电。",
    "en": "Sorry, we could not handle your reply automatically. "
    "An advisor will call you back soon.",
}


def queue_for_advisor(
    session: Session, *, phone: str, reason: str, detail: str, now: datetime
) -> CallbackRequest:
    """Put the customer with ``phone`` in the callback queue (a number never seen gets a file)."""
    customer = session.scalars(
        select(Customer).where(Customer.phone == phone).order_by(Customer.id).limit(1)
    ).first()
    if customer is None:
        customer = Customer(external_id=f"inbound:{phone}", name=phone, phone=phone, consent=False)
        session.add(customer)
        session.flush()
    return queue_callback(session, customer=customer, reason=reason, now=now, detail=detail)


def locale_for(session: Session, phone: str, default: str) -> str:
    """The customer's language for a message to ``phone``."""
    locale = session.scalar(select(Customer.locale).where(Customer.phone == phone).limit(1))
    return locale if locale in APOLOGY else default if default in APOLOGY else "zh-CN"


def apology(locale: str) -> str:
    """The apology in ``locale`` (Chinese when the locale has none)."""
    return APOLOGY.get(locale, APOLOGY["zh-CN"])
