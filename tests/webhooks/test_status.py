"""Status callbacks: recorded on the attempt by sid, never downgraded, error codes acted on."""

from __future__ import annotations

from sqlalchemy import select

from outreach.models import CallbackRequest, ContactAttempt, Customer, Outreach, PendingStatus
from tests.webhooks.conftest import NOW, new_sid


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

    def test_malformed_error_code_is_400(self, twilio, db, customer):
        """A non-numeric ErrorCode is refused."""
        attempt = sent(db, customer)
        assert status(twilio, attempt.provider_sid, "failed", ErrorCode="x").status_code == 400


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
