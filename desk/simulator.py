"""The phone simulator (Sandbox gateway only): rehearse the bot's SMS and voice scripts.

It calls the same entry points Twilio's webhooks call, so what a dealer sees here is what a
customer would get; nothing is sent anywhere.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import selectinload

from desk.auth import require_user
from desk.context import db, now, settings
from desk.i18n import t
from outreach.advisor_queue import transcript
from outreach.conversation import handle_sms, voice_turn
from outreach.models import Customer, Vehicle

_CALL_SID = re.compile(r"^CA[0-9a-f]{32}$")
_STEP = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates")
bp.before_request(require_user)


@bp.before_request
def sandbox_only() -> None:
    if settings().gateway != "sandbox":
        abort(404)


@bp.route("/")
def index() -> ResponseReturnValue:
    """Pick a demo customer."""
    q = request.args.get("q", "").strip()
    return render_template(
        "simulator/index.html",
        customers=find_customers(q),
        q=q,
        customer=None,
    )


def find_customers(q: str, limit: int = 50) -> list[Customer]:
    """Customers whose id (the DMS id the demo prints, or ours), name, phone or plate holds
    ``q``; everyone (the first ``limit``) for an empty search."""
    query = (
        select(Customer)
        .options(selectinload(Customer.vehicles))
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )
    # full-width digits and letters (１１１１, Ｃ００１) read as ASCII; a phone typed with
    # spaces or dashes (139 0000-1111) matches the stored +86…
    q = unicodedata.normalize("NFKC", q).strip()
    if q:
        like = f"%{q}%"
        digits = re.sub(r"[\s\-()]", "", q)
        plates = select(Vehicle.customer_id).where(
            Vehicle.plate.ilike(f"%{q.replace(' ', '').replace('·', '')}%")
        )
        matches: list[ColumnElement[bool]] = [
            Customer.name.like(like),
            Customer.phone.like(f"%{digits}%"),
            Customer.external_id.ilike(like),
            Customer.id.in_(plates),
        ]
        if q.isdigit():
            matches.append(Customer.id == int(q))
        query = query.where(or_(*matches))
    return list(db().scalars(query))


@bp.route("/<int:customer_id>")
def phone(customer_id: int) -> ResponseReturnValue:
    """The customer's SMS thread and call prompts, with a reply box."""
    customer = db().get(Customer, customer_id) or abort(404)
    every = transcript(db(), customer_id)
    return render_template(
        "simulator/index.html",
        customers=[],
        q="",
        customer=customer,
        thread=[a for a in every if a.channel == "sms" and a.direction != "note"],
        call_log=[a for a in every if a.channel == "voice" and a.direction != "note"],
        notes=[a for a in every if a.direction == "note" or a.channel == "desk"],
        call=_call_in(request.args),
    )


def _call_in(values: Any) -> dict[str, str] | None:
    """The simulated call in progress (its CallSid and the step the next answer goes to).

    It rides in the page's URL and forms, like Twilio's Gather action URL; the conversation's
    own state is in the database.
    """
    sid, step = values.get("call", ""), values.get("step", "")
    if _CALL_SID.match(sid) and _STEP.match(step) and step != "end":
        return {"sid": sid, "step": step}
    return None


def _voice(customer: Customer, sid: str, step: str, heard: str) -> ResponseReturnValue:
    turn = voice_turn(
        db(),
        settings(),
        call_sid=sid,
        to_or_from_phone=customer.phone,
        digits=heard if heard.isdigit() else None,
        speech=None if heard.isdigit() else heard or None,
        step=step,
        now=now(),
    )
    db().commit()
    if not turn.gather:
        flash(t("call_ended"), "info")
        return redirect(url_for("simulator.phone", customer_id=customer.id))
    return redirect(
        url_for("simulator.phone", customer_id=customer.id, call=sid, step=turn.next_step)
    )


@bp.route("/<int:customer_id>/call", methods=["POST"])
def call(customer_id: int) -> ResponseReturnValue:
    """The customer answers a call: the bot's first prompt (read into the thread)."""
    customer = db().get(Customer, customer_id) or abort(404)
    return _voice(customer, "CA" + uuid.uuid4().hex, "start", "")


@bp.route("/<int:customer_id>/call/answer", methods=["POST"])
def call_answer(customer_id: int) -> ResponseReturnValue:
    """Keypad digits or words typed for the call's current prompt."""
    customer = db().get(Customer, customer_id) or abort(404)
    current = _call_in(request.form) or abort(400)
    return _voice(customer, current["sid"], current["step"], request.form.get("heard", "").strip())


@bp.route("/<int:customer_id>/sms", methods=["POST"])
def sms(customer_id: int) -> ResponseReturnValue:
    """Deliver the typed reply to the conversation engine as if the customer had texted it."""
    customer = db().get(Customer, customer_id) or abort(404)
    body = request.form.get("body", "").strip()
    if body:
        handle_sms(
            db(),
            settings(),
            from_phone=customer.phone,
            body=body,
            message_sid=f"SM{uuid.uuid4().hex}",  # unique, as Twilio's would be
            now=now(),
        )
        db().commit()
    return redirect(url_for("simulator.phone", customer_id=customer_id, _anchor="latest"))
