"""Status callbacks: recorded on the attempt by sid, never downgraded, error codes acted on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from outreach.models import (
    CallbackRequest,
    ContactAttempt,
    Customer,
    Outreach,
    PendingStatus,
    WebhookEvent,
)
from tests.webhooks.conftest import NOW, new_sid

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def sent(db, customer, channel: str = "sms") -> ContactAttempt:  # type: ignore[no-untyped-def]
    attempt = ContactAttempt(
        customer_id=customer.id, at=NOW, channel=channel, direction="out", kind="offer",
        status="sent", provider_sid=new_sid("SM" if channel == "sms" else "CA"),
    )  # fmt: skip
    db.add(attempt)
    db.commit()
    return attempt


def status(twilio, sid: str, value: str, **extra: str):  # type: ignore[no-untyped-def]
    return twilio.post(
        "/twilio/message-status", {"MessageSid": sid, "MessageStatus": value, **extra}
    )


class TestMessageStatus:
    def test_status_is_recorded_on_the_attempt(self, twilio, db, customer):
        """A delivered callback sets the attempt's status; the answer is 204."""
        attempt = sent(db, customer)
        assert status(twilio, attempt.provider_sid, "delivered").status_code == 204
        db.refresh(attempt)
        assert attempt.status == "delivered"

    def test_final_status_is_never_downgraded(self, twilio, db, customer):
        """A late "sent" after "delivered" leaves "delivered"."""
        attempt = sent(db, customer)
        status(twilio, attempt.provider_sid, "delivered")
        status(twilio, attempt.provider_sid, "sent")
        status(twilio, attempt.provider_sid, "failed")
        db.refresh(attempt)
        assert attempt.status == "delivered"

    def test_earlier_status_after_later_is_ignored(self, twilio, db, customer):
        """ "queued" arriving after "sending" does not move the attempt back."""
        attempt = sent(db, customer)
        attempt.status = "sending"
        db.commit()
        status(twilio, attempt.provider_sid, "queued")
        db.refresh(attempt)
        assert attempt.status == "sending"

    def test_unreachable_number_queues_callback(self, twilio, db, customer):
        """Undelivered with 30003/30005/30006 flags a bad number for an advisor."""
        attempt = sent(db, customer)
        status(twilio, attempt.provider_sid, "undelivered", ErrorCode="30005")
        db.refresh(attempt)
        assert (attempt.status, attempt.error_code) == ("undelivered", "30005")
        callback = db.scalars(select(CallbackRequest)).one()
        assert callback.reason == "bad_number" and "30005" in (callback.detail or "")

    def test_duplicate_callback_queues_once(self, twilio, db, customer):
        """The same MessageSid + status twice creates one callback request."""
        attempt = sent(db, customer)
        status(twilio, attempt.provider_sid, "undelivered", ErrorCode="30003")
        status(twilio, attempt.provider_sid, "undelivered", ErrorCode="30003")
        assert len(db.scalars(select(CallbackRequest)).all()) == 1

    def test_unsubscribed_recipient_is_opted_out(self, twilio, db, customer):
        """Error 21610 on a status callback opts the customer out."""
        attempt = sent(db, customer)
        status(twilio, attempt.provider_sid, "failed", ErrorCode="21610")
        db.expire_all()
        assert db.get(Customer, customer.id).opted_out_at is not None  # type: ignore[union-attr]

    def test_unknown_sid_is_accepted_and_kept_pending(self, twilio, db, customer):
        """A callback for a SID not recorded yet answers 204 and is kept for the outbox."""
        sid = new_sid()
        assert status(twilio, sid, "delivered").status_code == 204
        assert db.scalars(select(PendingStatus.sid)).all() == [sid]

    def test_malformed_sid_is_400(self, twilio, db, customer):
        """A callback whose MessageSid is not a SID cannot be recorded against anything."""
        assert status(twilio, "SM123", "delivered").status_code == 400


class TestCallStatus:
    def test_unanswered_call_reaches_the_sms_fallback(self, twilio, db, customer, app):
        """A no-answer call status hands the outreach to call_unanswered, whose effect (in the
        webhook's transaction) happens once: a copy runs it again and is rolled back."""
        outreach = Outreach(customer_id=customer.id, campaign="maintenance", planned_on=NOW.date())
        db.add(outreach)
        db.flush()
        attempt = sent(db, customer, channel="voice")
        attempt.outreach_id = outreach.id
        db.commit()

        def noted(session, settings, outreach, **kw):
            session.add(
                ContactAttempt(
                    customer_id=outreach.customer_id, outreach_id=outreach.id, at=NOW,
                    channel="voice", direction="note", kind="handler", body=kw["status"],
                )
            )  # fmt: skip

        handlers = app.config["HANDLERS"]
        app.config["HANDLERS"] = type(handlers)(
            handlers.handle_sms, handlers.voice_turn, call_unanswered=noted
        )
        data = {"CallSid": attempt.provider_sid, "CallStatus": "no-answer"}
        assert twilio.post("/twilio/call-status", data).status_code == 204
        assert twilio.post("/twilio/call-status", data).status_code == 204
        notes = select(ContactAttempt.outreach_id, ContactAttempt.body).where(
            ContactAttempt.kind == "handler"
        )
        assert db.execute(notes).all() == [(outreach.id, "no-answer")]
        db.refresh(attempt)
        assert attempt.status == "no-answer"


class TestJunkFields:
    """Signed status callbacks never answer 500: unreadable fields are recorded as unknown."""

    @pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
    @pytest.mark.parametrize(
        "code",
        ["²", "３０００５", str(2**31), str(2**63), "99999999999999999999", "x", "-1", "3e4"],
    )
    def test_unreadable_error_code_is_recorded_as_unknown(self, twilio, db, customer, code):
        """ "²".isdigit() is True but int("²") fails; 2^31 does not fit the pending row's
        INTEGER; 2^63 does not fit the attempt's code column: all were 500s (or 400s)."""
        attempt = sent(db, customer)
        assert status(twilio, attempt.provider_sid, "failed", ErrorCode=code).status_code == 204
        db.refresh(attempt)
        assert (attempt.status, attempt.error_code) == ("failed", "unknown")
        assert not db.scalars(select(CallbackRequest)).all()

    @pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
    def test_junk_for_an_unknown_sid_is_kept_pending_as_unknown(self, twilio, db, customer):
        """A pending status with junk fields fits its columns."""
        sid = new_sid()
        response = status(
            twilio, sid, "délivré\x00" * 10, ErrorCode=str(2**40), AnsweredBy="m" * 500
        )
        assert response.status_code == 204
        row = db.scalars(select(PendingStatus)).one()
        assert (row.status, row.error_code, row.answered_by) == ("unknown", -1, "unknown")

    @pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
    def test_unknown_status_does_not_replace_a_known_one(self, twilio, db, customer):
        """A status that is not a status word is "unknown" and moves nothing back."""
        attempt = sent(db, customer)
        assert status(twilio, attempt.provider_sid, "\x00\x01" + "z" * 300).status_code == 204
        db.refresh(attempt)
        assert attempt.status == "sent"

    @pytest.mark.parametrize("committing_engine", BACKENDS, indirect=True)
    def test_replayed_callback_with_a_long_key_is_recognised(self, twilio, db, customer):
        """The handled-once key of a long status was stored cut at 120 characters and looked
        up whole: the replay found nothing, ran again and failed on the unique key (500)."""
        attempt = sent(db, customer)
        long_status = "undelivered" + "x" * 200
        first = status(twilio, attempt.provider_sid, long_status, ErrorCode="30003")
        again = status(twilio, attempt.provider_sid, long_status, ErrorCode="30003")
        assert (first.status_code, again.status_code) == (204, 204)
        keys = db.scalars(select(WebhookEvent.key)).all()
        assert len(keys) == 1 and len(keys[0]) == 64

    def test_keys_differing_after_120_characters_are_two_events(self, twilio, db, customer):
        """Two callbacks alike in their first 120 characters are two requests, not a replay."""
        attempt = sent(db, customer)
        for tail in ("a", "b"):
            assert status(twilio, attempt.provider_sid, "x" * 130 + tail).status_code == 204
        assert len(db.scalars(select(WebhookEvent.key)).all()) == 2
