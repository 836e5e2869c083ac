"""Reading a Twilio webhook request: strict form decoding, the signature, the account.

Twilio signs the URL it called plus the POSTed fields with the account's auth token.  The URL
is rebuilt from the configured public base URL (``PUBLIC_BASE_URL``), never from the Host
header, so validation works behind a TLS-terminating proxy and cannot be steered by a client.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import NoReturn
from urllib.parse import parse_qsl

import phonenumbers
from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from outreach.control_chars import remove_controls
from outreach.sandbox import SANDBOX_ACCOUNT_SID
from outreach.settings import Settings

log = logging.getLogger(__name__)

SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
STEP = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")


def mask(phone: str | None) -> str:
    """A phone number fit for a log line: only its last four digits."""
    return f"…{phone[-4:]}" if phone else "-"


def credentials(settings: Settings) -> tuple[str, str]:
    """(account SID, auth token) webhooks are signed with: Twilio's, or the sandbox's."""
    if settings.twilio is not None:
        return settings.twilio.account_sid, settings.twilio.auth_token
    return SANDBOX_ACCOUNT_SID, settings.sandbox_auth_token


def public_url(settings: Settings, req: Request) -> str:
    """The URL Twilio called: the public base URL, the path and the raw query string."""
    query = req.query_string.decode("latin-1")
    return f"{settings.public_base_url}{req.path}" + (f"?{query}" if query else "")


def refuse(status: int, why: str, form: MultiDict[str, str] | None = None) -> NoReturn:
    """Log why a request is refused (no token, no full number) and abort with ``status``."""
    who = mask(form.get("From")) if form is not None else "-"
    log.warning("twilio %s refused %s: %s (from %s)", request.path, status, why, who)
    abort(status, description=why)


def read_form() -> MultiDict[str, str]:
    """The POSTed fields, decoded strictly: invalid UTF-8 is refused, never replaced."""
    if request.mimetype != "application/x-www-form-urlencoded":
        refuse(415, "expected application/x-www-form-urlencoded")
    raw = request.get_data(cache=True)  # 413 beyond MAX_CONTENT_LENGTH
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError:
        refuse(400, "the form is not valid UTF-8")
    return MultiDict(pairs)


def clean(form: MultiDict[str, str]) -> MultiDict[str, str]:
    """The fields with their control characters removed (``STOP\\x00`` reads ``STOP``).

    Applied after the signature check, which covers the fields exactly as Twilio sent them.
    """
    return MultiDict(
        [(remove_controls(name), remove_controls(value)) for name, value in form.items(multi=True)]
    )


def verify() -> MultiDict[str, str]:
    """The request's fields once its signature and account are ours; 403 otherwise."""
    form = read_form()
    settings: Settings = current_app.config["SETTINGS"]
    account, token = credentials(settings)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        refuse(403, "no X-Twilio-Signature", form)
    if not RequestValidator(token).validate(public_url(settings, request), form, signature):
        refuse(403, f"signature does not match {settings.public_base_url}{request.path}", form)
    if form.get("AccountSid") != account:
        refuse(403, "AccountSid is not this account", form)
    return form


def field(form: MultiDict[str, str], name: str, *, pattern: re.Pattern[str] | None = None) -> str:
    """A required field (400 names it when missing or malformed)."""
    value = form.get(name)
    if value is None:
        refuse(400, f"missing {name}", form)
    if pattern is not None and not pattern.match(value):
        refuse(400, f"malformed {name}", form)
    return value


def phone(form: MultiDict[str, str], name: str) -> str:
    """A required phone number in E.164 (400 when it does not parse)."""
    value = field(form, name)
    e164 = _e164(value)
    if e164 is None:
        refuse(400, f"{name} is not a phone number in E.164 form", form)
    return e164


@lru_cache(maxsize=4096)
def _e164(value: str) -> str | None:
    """``value`` in E.164, or None when it is no possible number (the same customers write
    again and again: parsing a number costs more than the rest of reading the form)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
