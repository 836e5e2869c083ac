"""Twilio's webhooks: inbound SMS, the voice call, and delivery status callbacks.

Each view is thin: the blueprint verifies the signature, the view checks its fields, calls one
function in ``outreach`` through :func:`answer_once`, and answers TwiML.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.orm import Session

from outreach import bot_failure, delivery, paths
from outreach.settings import Settings
from webhooks import twiml
from webhooks.handlers import Handlers
from webhooks.once import answer_once
from webhooks.signed import SID, STEP, clean, field, phone, verify

log = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__, url_prefix=paths.PREFIX)
XML = "text/xml; charset=utf-8"


@bp.before_request
def signed() -> None:
    g.form = clean(verify())


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _handlers() -> Handlers:
    return current_app.config["HANDLERS"]


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml", content_type=XML)


def _handed_to_advisor(channel: str, who: str, sid: str):
    """A fallback: queue the customer for an advisor and apologise in their language."""

    def fallback(session: Session, now: datetime, failure: Exception) -> str:
        settings = _settings()
        detail = f"the bot failed on {channel} {sid}: {type(failure).__name__}"
        bot_failure.queue_for_advisor(
            session, phone=who, reason="bot_error", detail=detail, now=now
        )
        locale = bot_failure.locale_for(session, who, settings.dealership.default_locale)
        text = bot_failure.apology(settings, locale)
        return twiml.sms(text) if channel == "sms" else twiml.voice_fallback(text, locale)

    return fallback


def _last_resort(channel: str) -> Response:
    # Even the fallback failed (the database is down): still answer politely.
    locale = _settings().dealership.default_locale
    text = bot_failure.apology(_settings(), locale)
    return _xml(twiml.sms(text) if channel == "sms" else twiml.voice_fallback(text, locale))


@bp.post(paths.route(paths.SMS))
def sms() -> Response:
    """An inbound SMS: the conversation answers it (once per MessageSid)."""
    form = g.form
    sid = field(form, "MessageSid", pattern=SID)
    sender = phone(form, "From")
    body = field(form, "Body")

    def effect(session: Session, now: datetime) -> str:
        reply = _handlers().handle_sms(
            session, _settings(), from_phone=sender, body=body, message_sid=sid, now=now
        )
        return twiml.sms(reply.text)

    try:
        return _xml(answer_once(f"sms:{sid}", effect, _handed_to_advisor("sms", sender, sid)))
    except Exception:
        log.exception("sms %s: fallback failed", sid)
        return _last_resort("sms")


def _voice_answer(step: str) -> Response:
    form = g.form
    call = field(form, "CallSid", pattern=SID)
    outbound = form.get("Direction", "inbound").startswith("outbound")
    customer = phone(form, "To" if outbound else "From")
    digits = form.get("Digits") or None
    speech = form.get("SpeechResult") or None
    answered_by = form.get("AnsweredBy", "")

    def effect(session: Session, now: datetime) -> str:
        if delivery.answered_by_machine(answered_by):
            return twiml.hang_up()  # the call-status callback queues the SMS instead
        turn = _handlers().voice_turn(
            session,
            _settings(),
            call_sid=call,
            to_or_from_phone=customer,
            digits=digits,
            speech=speech,
            step=step,
            now=now,
        )
        return twiml.voice(turn, _settings().public_base_url)

    key = f"voice:{call}:{step}"
    try:
        return _xml(answer_once(key, effect, _handed_to_advisor("voice", customer, call)))
    except Exception:
        log.exception("voice %s: fallback failed", call)
        return _last_resort("voice")


@bp.post(paths.route(paths.VOICE))
def voice() -> Response:
    """A call was answered (inbound, or our outbound call): the first voice turn.

    An outbound call's URL names the outbox row that placed it (``?outbox=<id>``), signed
    with the rest of the URL; the conversation finds the open outreach by the customer.
    """
    outbox = request.args.get(paths.OUTBOX_FIELD)
    if outbox is not None and not (outbox.isascii() and outbox.isdigit()):
        return Response("malformed outbox", status=400, mimetype="text/plain")
    return _voice_answer("start")


@bp.post(paths.route(paths.VOICE_GATHER))
def gather() -> Response:
    """The keypad/speech result of a <Gather>; ``step`` says which question it answers."""
    step = request.args.get("step", "")
    if not STEP.match(step):
        return Response("missing or malformed step", status=400, mimetype="text/plain")
    return _voice_answer(step)


def _status(sid_field: str, status_field: str) -> Response:
    form = g.form
    sid = field(form, sid_field, pattern=SID)
    given = field(form, status_field)
    # Junk in a field is recorded as unknown, never refused nor fatal (the provider would
    # retry a refused callback for nothing).
    status = delivery.callback_status(given)
    code = delivery.callback_error_code(form.get("ErrorCode"))
    answered_by = delivery.callback_answered_by(form.get("AnsweredBy"))

    def effect(session: Session, now: datetime) -> str:
        outcome = delivery.record_status(
            session, sid=sid, status=status, error_code=code, now=now, answered_by=answered_by
        )
        if (
            sid_field == "CallSid"
            and outcome != "pending"
            and delivery.unanswered(status, answered_by)
        ):
            _call_unanswered(session, sid, status, answered_by, now)
        log.info("status %s %s: %s", sid, status, outcome)
        return ""

    # No fallback: a failure answers 500 with no body, so Twilio may retry the callback.
    # Keyed by the status as given, so two different unreadable statuses are both recorded.
    answer_once(f"{sid_field}:{sid}:{given.strip().lower()}", effect)
    return Response(status=204)


def _call_unanswered(
    session: Session, sid: str, status: str, answered_by: str | None, now: datetime
) -> None:
    handler = _handlers().call_unanswered
    outreach = delivery.outreach_of(session, sid)
    if handler is not None and outreach is not None:
        handler(
            session, _settings(), outreach, status=status, answered_by=answered_by, now=now,
            call_sid=sid,
        )  # fmt: skip


@bp.post(paths.route(paths.MESSAGE_STATUS))
def message_status() -> Response:
    """A message's delivery status (MessageSid + MessageStatus, handled once)."""
    return _status("MessageSid", "MessageStatus")


@bp.post(paths.route(paths.CALL_STATUS))
def call_status() -> Response:
    """A call's progress; unanswered, busy or machine-answered calls fall back to SMS."""
    return _status("CallSid", "CallStatus")
