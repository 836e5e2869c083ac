"""Pushes from domestic SMS providers: Aliyun's SmsUp (replies) and SmsReport (receipts).

``POST /providers/aliyun/sms-up/<secret>`` and ``POST /providers/aliyun/sms-report/<secret>``.
Aliyun does not sign its pushes: the path's secret (``ALIYUN_PUSH_SECRET``), compared in
constant time, is the lock; a wrong one gets 404 and changes nothing.  Each item is handled
once (by sequence id, or by BizId and receipt), then the push is answered ``{"code": 0}``;
a failure answers 500 so Aliyun pushes again (after 1, 5 and 10 minutes).
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy.orm import Session

from outreach import bot_failure
from outreach.aliyun_push import (
    PushedReply,
    PushedReport,
    PushError,
    parse_sms_report,
    parse_sms_up,
    take_reply,
    take_report,
)
from outreach.settings import Settings
from webhooks.handlers import Handlers
from webhooks.once import answer_once

log = logging.getLogger(__name__)

bp = Blueprint("providers", __name__, url_prefix="/providers")


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _check_secret(secret: str) -> None:
    config = _settings().gateway_choice.aliyun
    expected = config.push_secret if config is not None else ""
    # Compare even when no secret is configured, so timing tells nothing either way.
    ok = hmac.compare_digest(secret.encode(), (expected or "\x00" * 32).encode())
    if not (ok and expected and _settings().gateway == "aliyun"):
        abort(404)


def _payload() -> object:
    payload = request.get_json(silent=True, force=True)
    if payload is None:
        abort(Response("the body must be a JSON array", status=400, mimetype="text/plain"))
    return payload


def _ok() -> Response:
    return jsonify({"code": 0, "msg": "接收成功"})


def _bad(exc: PushError) -> Response:
    return Response(str(exc), status=400, mimetype="text/plain")


def _advisor_fallback(reply: PushedReply):
    def fallback(session: Session, now: datetime, failure: Exception) -> str:
        detail = f"the bot failed on Aliyun reply {reply.sequence_id}: {type(failure).__name__}"
        bot_failure.queue_for_advisor(
            session, phone=reply.phone, reason="bot_error", detail=detail, now=now
        )
        return "handed to an advisor"

    return fallback


@bp.post("/aliyun/sms-up/<secret>")
def aliyun_sms_up(secret: str) -> Response:
    """Customers' replies: each into the conversation once, its answer queued as a message."""
    _check_secret(secret)
    try:
        replies = parse_sms_up(_payload())
    except PushError as exc:
        return _bad(exc)
    handlers: Handlers = current_app.config["HANDLERS"]
    for reply in replies:

        def effect(session: Session, now: datetime, reply: PushedReply = reply) -> str:
            return take_reply(session, _settings(), reply, handle_sms=handlers.handle_sms, now=now)

        outcome = answer_once(reply.key, effect, _advisor_fallback(reply))
        log.info("aliyun reply %s from …%s: %s", reply.sequence_id, reply.phone[-4:], outcome)
    return _ok()


@bp.post("/aliyun/sms-report/<secret>")
def aliyun_sms_report(secret: str) -> Response:
    """Delivery reports: each moves its message's status on once."""
    _check_secret(secret)
    try:
        reports = parse_sms_report(_payload())
    except PushError as exc:
        return _bad(exc)
    for report in reports:

        def effect(session: Session, now: datetime, report: PushedReport = report) -> str:
            return take_report(session, report, now=now)

        outcome = answer_once(report.key, effect)
        log.info("aliyun report %s: %s", report.biz_id, outcome)
    return _ok()
