"""The scheduled jobs: campaigns within capacity, day-before confirmations, no-show follow-ups."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from outreach.capacity import book, daily_offer_budget
from outreach.conversation import handle_sms
from outreach.jobs import check_no_shows, run_campaigns, send_confirmations
from outreach.models import Appointment, OutboxMessage, Outreach
from outreach.models.capacity import SlotHold
from outreach.settings import Seasonal
from tests.factories import make_customer, make_vehicle, make_visit

# Monday 30 Nov 2026, 09:00 in Shanghai
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 30)


def due_customers(session, n):
    customers = []
    for _ in range(n):
        c = make_customer(session)
        v = make_vehicle(session, c)
        make_visit(session, v, date(2026, 8, 1), 20_000)
        customers.append(c)
    return customers


def outbox_rows(session, template):
    return session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)).all()


def booked_tomorrow(session, settings, customer):
    v = customer.vehicles[0]
    return book(
        session,
        settings,
        customer_id=customer.id,
        vehicle_id=v.id,
        jobs=["maintenance"],
        starts_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),  # Tue 10:00 local
        now=NOW,
    )


class TestRunCampaigns:
    def test_each_planned_customer_gets_one_queued_offer_with_slots(self, session, settings):
        """Every planned outreach has its offer queued once, naming held times."""
        due_customers(session, 2)
        run = run_campaigns(session, settings, today=TODAY, now=NOW)
        assert len(run.planned) == 2
        offers = outbox_rows(session, "offer")
        assert sorted(o.outreach_id for o in offers) == sorted(o.id for o in run.planned)
        assert all("1." in o.body or "1）" in o.body or "1、" in o.body for o in offers)
        assert all(o.status == "open" for o in run.planned)

    def test_a_visit_three_days_ago_gets_the_follow_up_question_not_an_offer(
        self, session, settings
    ):
        """The follow-up after a visit asks for a rating; it holds no slots and offers none.
        (The pre-winter window is shut here: a customer due for it as well gets one booking
        offer naming both reasons.)"""
        campaigns = replace(settings.campaigns, seasonal=Seasonal(enabled=False))
        settings = replace(settings, campaigns=campaigns)
        customer = make_customer(session)
        make_visit(session, make_vehicle(session, customer), date(2026, 11, 27), 30_000)
        (outreach,) = run_campaigns(session, settings, today=TODAY, now=NOW).planned
        assert outreach.campaign == "post_service_followup" and outreach.state == "followup"
        (question,) = outbox_rows(session, "followup")
        assert "打分" in question.body and "11月27日" in question.body
        assert outbox_rows(session, "offer") == []
        assert not (outreach.context or {}).get("slots")
        assert session.scalar(select(func.count()).select_from(SlotHold)) == 0

    def test_follow_ups_go_out_when_the_workshop_has_no_room_for_offers(self, session, settings):
        """A follow-up holds no slot, so a day with no budget for offers still sends it, and
        it does not use up tomorrow's budget."""
        campaigns = replace(settings.campaigns, seasonal=Seasonal(enabled=False))
        settings = replace(settings, campaigns=campaigns)
        due_customers(session, 1)
        visited = make_customer(session)
        make_visit(session, make_vehicle(session, visited), date(2026, 11, 27), 30_000)
        budget = daily_offer_budget(session, settings, TODAY, NOW)
        run = run_campaigns(session, settings, today=TODAY, now=NOW, limit=0)
        assert [o.customer_id for o in run.planned] == [visited.id]
        assert len(outbox_rows(session, "followup")) == 1 and outbox_rows(session, "offer") == []
        assert daily_offer_budget(session, settings, TODAY, NOW) == budget > 0

    def test_the_limit_caps_the_day_and_the_rest_wait(self, session, settings):
        """With a limit of one, one customer is invited and the other waits for the next run."""
        due_customers(session, 2)
        assert len(run_campaigns(session, settings, today=TODAY, now=NOW, limit=1).planned) == 1
        assert len(outbox_rows(session, "offer")) == 1

    def test_running_again_queues_nothing_twice(self, session, settings):
        """A second run the same day finds everyone already in a conversation."""
        due_customers(session, 1)
        run_campaigns(session, settings, today=TODAY, now=NOW)
        again = run_campaigns(session, settings, today=TODAY, now=NOW + timedelta(minutes=5))
        assert again.planned == []
        assert len(outbox_rows(session, "offer")) == 1


class TestConfirmations:
    def test_tomorrows_appointment_gets_one_reminder(self, session, settings):
        """The day-before message is queued once, however often the job runs."""
        [c] = due_customers(session, 1)
        booked_tomorrow(session, settings, c)
        assert send_confirmations(session, settings, NOW) == 1
        assert send_confirmations(session, settings, NOW + timedelta(hours=1)) == 0
        [row] = outbox_rows(session, "reminder")
        assert "随车文件" in row.body

    def test_replying_2_to_the_reminder_offers_other_times(self, session, settings):
        """ "2" after the day-before message starts a reschedule with new times."""
        [c] = due_customers(session, 1)
        booked_tomorrow(session, settings, c)
        send_confirmations(session, settings, NOW)
        reply = handle_sms(
            session, settings, from_phone=c.phone, body="2", message_sid="SM1", now=NOW
        )
        outreach = session.scalars(select(Outreach).where(Outreach.customer_id == c.id)).one()
        assert outreach.campaign == "reschedule"
        assert reply.text

    def test_replying_1_to_the_reminder_confirms(self, session, settings):
        """ "1" after the day-before message keeps the booking, notes that the customer is
        coming (the board shows it) and says see you then."""
        [c] = due_customers(session, 1)
        appt = booked_tomorrow(session, settings, c)
        send_confirmations(session, settings, NOW)
        reply = handle_sms(
            session, settings, from_phone=c.phone, body="1", message_sid="SM2", now=NOW
        )
        assert appt.status == "booked" and appt.confirmed_at == NOW
        assert reply.kind == "arrival_confirmed" and "12月1日" in (reply.text or "")
        later = NOW + timedelta(minutes=5)
        reply = handle_sms(
            session, settings, from_phone=c.phone, body="好的", message_sid="SM3", now=later
        )
        assert reply.kind == "arrival_confirmed" and appt.confirmed_at == NOW


class TestNoShows:
    def test_a_missed_appointment_is_marked_and_offered_new_times_once(self, session, settings):
        """Yesterday's unattended booking becomes a no-show with one follow-up offer."""
        [c] = due_customers(session, 1)
        appt = booked_tomorrow(session, settings, c)
        two_days_later = NOW + timedelta(days=2)
        assert check_no_shows(session, settings, two_days_later) == 1
        assert appt.status == "no_show"
        [row] = outbox_rows(session, "no_show")
        assert row.outreach_id is not None
        assert check_no_shows(session, settings, two_days_later + timedelta(hours=1)) == 0
        count = session.scalar(select(func.count()).select_from(Appointment))
        assert count == 1
