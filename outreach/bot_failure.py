"""When the bot fails on a customer's message or call: an advisor calls back, the customer
gets an apology in their language (the ``fallback_error`` script: its wording exists only
there)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.callbacks import queue_callback
from outreach.models import CallbackRequest, Customer
from outreach.scripts import ScriptError, ScriptNotFound, render
from outreach.settings import LOCALES, Settings

SCRIPT = "fallback_error"


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
    return locale if locale in LOCALES else default if default in LOCALES else "zh-CN"


def apology(settings: Settings, locale: str) -> str:
    """The apology in ``locale``: the dealership's ``fallback_error`` script, or the shipped one
    when the override cannot be rendered (this is the answer of last resort)."""
    try:
        return render(settings, SCRIPT, locale=locale, channel="sms")
    except (ScriptNotFound, ScriptError):
        shipped = dataclasses.replace(settings, scripts_override_dir=None)
        return render(shipped, SCRIPT, locale=locale, channel="sms")
