"""Sending one claimed row, outside any database transaction, and asking the provider after.

A send whose outcome is unknown (a 5xx, a timeout, a dropped connection) is looked up at
once: found, it was sent; not found, the provider answered and has no such message, so a
later resend is safe; the provider unreachable, the row waits (``unreachable``) and is
looked up before it is sent again.  Only when the provider, reachable, cannot say (calls
cannot be looked up by content) is the outcome ``unknown``: a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from outreach import paths
from outreach.gateway import Gateway, GatewayError, SendResult
from outreach.outbox.claim import Claim
from outreach.settings import Settings

# Outcomes that say the provider could not be reached or failed (5xx): the breaker counts them.
OUTAGE = frozenset({"ambiguous", "unreachable"})


@dataclass(frozen=True)
class Outcome:
    """What happened to one send: "sent", "ambiguous", "unreachable", "unknown", a GatewayError
    kind ("retryable", "opted_out", "bad_number", "failed")."""

    kind: str
    sid: str | None = None
    status: str | None = None
    error: str | None = None
    code: int | None = None


class Unreachable(Exception):
    """The provider could not be asked (a 5xx or a connection failure on the look-up)."""


def answer_url(settings: Settings, outbox_id: int) -> str:
    """Where an outbound call fetches its TwiML: ``/twilio/voice`` naming the outbox row."""
    return paths.url(settings.public_base_url, paths.VOICE, **{paths.OUTBOX_FIELD: outbox_id})


def send(gateway: Gateway, claim: Claim, settings: Settings) -> Outcome:
    """Send one claimed row (no database access); an ambiguous result is looked up at once.

    A row with an earlier unresolved send (``lookup_since``) is looked up first and sent
    only if the provider answers that it has no such message.
    """
    if claim.lookup_since is not None:
        earlier = look_up(gateway, claim, claim.lookup_since, "an earlier send's outcome")
        if earlier.kind != "ambiguous":  # found, unreachable, or no way to tell
            return earlier
    base = settings.public_base_url
    try:
        if claim.channel == "voice":
            result = gateway.place_call(
                claim.to,
                answer_url=answer_url(settings, claim.id),
                status_callback=paths.url(base, paths.CALL_STATUS),
            )
        else:
            result = gateway.send_sms(
                claim.to,
                claim.body,
                status_callback=paths.url(base, paths.MESSAGE_STATUS),
                validity_seconds=settings.sending.validity_seconds,
            )
    except GatewayError as exc:
        if exc.kind == "ambiguous":
            return look_up(gateway, claim, claim.lookup_since or claim.claimed_at, str(exc))
        return Outcome(exc.kind, error=str(exc), code=exc.code)
    return Outcome("sent", sid=result.sid, status=result.status)


def look_up(gateway: Gateway, claim: Claim, since: datetime, cause: str) -> Outcome:
    """Ask the provider for ``claim``'s message since ``since``: "sent", "ambiguous" (it has
    none), "unreachable" or "unknown" (it cannot say)."""
    try:
        found = find_sent(gateway, claim.channel, claim.to, claim.body, since)
    except Unreachable as exc:
        return Outcome("unreachable", error=f"{cause}; look-up: {exc}")
    if isinstance(found, SendResult):
        return Outcome("sent", sid=found.sid, status=found.status)
    if found is None:
        return Outcome("ambiguous", error=f"not found after: {cause}")
    return Outcome("unknown", error=f"{cause}; look-up: {found}")


def find_sent(
    gateway: Gateway, channel: str, to: str, body: str, since: datetime
) -> SendResult | str | None:
    """The provider's record of a send, None if it has none, or why it cannot say.

    Raises :class:`Unreachable` when the provider could not be asked at all.
    """
    if channel == "voice":
        return "calls cannot be looked up by content"
    try:
        return gateway.find_sent(to, body, since)
    except GatewayError as exc:
        if exc.kind in ("ambiguous", "retryable"):
            raise Unreachable(str(exc)) from exc
        return f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a connection failure the gateway did not classify
        raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
