"""Campaign results per campaign and week, the appointment rate, and the workshop load."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from outreach.campaigns import campaigns, iter_due
from outreach.models import Appointment, AppointmentJob, ContactAttempt, Outreach, OutreachReason
from outreach.planning import plan_outreach
from outreach.stats import (
    appointment_rate,
    campaign_funnels,
    campaign_stats,
    iso_week,
    workshop_load,
)
from tests.factories import make_customer, make_vehicle, make_visit

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2025, 3, 3)  # ISO week 2025-W10
AT = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)


def _outreach(
    session,
    *,
    campaign="maintenance_interval",
    planned_on=MONDAY,
    status="open",
    attempts=(),
    appointment=None,
):
    vehicle = make_vehicle(session)
    outreach = Outreach(
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        status=status,
        campaign=campaign,
        planned_on=planned_on,
    )
    session.add(outreach)
    session.flush()
    for channel, direction, status_ in attempts:
        session.add(
            ContactAttempt(
                customer_id=vehicle.customer_id,
                outreach_id=outreach.id,
                at=AT,
                channel=channel,
                direction=direction,
                kind="x",
                status=status_,
            )
        )
    if appointment:
        session.add(
            Appointment(
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                outreach_id=outreach.id,
                starts_at=AT + timedelta(days=2),
                status=appointment,
            )
        )
    session.flush()
    return outreach


class TestCampaignStats:
    def test_counts_each_stage_once_per_outreach(self, session):
        """Each outreach counts once per stage, however many messages it had."""
        _outreach(
            session,
            attempts=[
                ("sms", "out", "delivered"),
                ("sms", "out", "delivered"),
                ("sms", "in", "received"),
            ],
            appointment="completed",
        )
        _outreach(
            session,
            attempts=[("sms", "out", "delivered"), ("sms", "in", None)],
            appointment="no_show",
        )
        _outreach(session, attempts=[("sms", "out", "undelivered")], status="opted_out")
        _outreach(session)  # due, never contacted
        [row] = campaign_stats(session, since=MONDAY, until=MONDAY + timedelta(days=6))
        assert (row.campaign, row.week) == ("maintenance_interval", "2025-W10")
        assert (row.due, row.contacted, row.delivered, row.replied) == (4, 3, 2, 2)
        assert (row.booked, row.showed, row.opted_out) == (2, 1, 1)
        assert (row.booking_rate, row.show_rate) == (0.667, 0.5)

    def test_desk_notes_are_not_contacts(self, session):
        """An advisor's note on the desk does not count as contacting the customer."""
        _outreach(session, attempts=[("desk", "note", None)])
        [row] = campaign_stats(session, since=MONDAY, until=MONDAY)
        assert row.contacted == 0

    def test_split_by_campaign_and_week(self, session):
        """Outreach of two campaigns and two weeks give four rows, oldest week first."""
        for campaign in ("maintenance_interval", "seasonal"):
            for planned in (MONDAY, MONDAY + timedelta(days=7)):
                _outreach(session, campaign=campaign, planned_on=planned)
        rows = campaign_stats(session, since=MONDAY, until=MONDAY + timedelta(days=13))
        assert [(r.week, r.campaign) for r in rows] == [
            ("2025-W10", "maintenance_interval"),
            ("2025-W10", "seasonal"),
            ("2025-W11", "maintenance_interval"),
            ("2025-W11", "seasonal"),
        ]

    def test_no_rates_without_a_denominator(self, session):
        """Rates are None, not zero, when nobody was contacted or booked."""
        _outreach(session)
        [row] = campaign_stats(session, since=MONDAY, until=MONDAY)
        assert (row.booking_rate, row.show_rate) == (None, None)

    def test_follow_up_ratings_average_per_week(self, session):
        """The follow-up row averages the ratings given; unrated follow-ups do not count."""
        for rating in (5, 4, None, 2):
            outreach = _outreach(session, campaign="post_service_followup", status="closed")
            outreach.rating = rating
        session.flush()
        [row] = campaign_stats(session, since=MONDAY, until=MONDAY)
        assert (row.rating, len(row.ratings), row.due) == (3.67, 3, 4)
        assert row.as_dict()["rating"] == 3.67 and row.as_dict()["rated"] == 3

    def test_iso_week_crosses_the_year(self):
        """30 December 2024 belongs to ISO week 2025-W01."""
        assert iso_week(date(2024, 12, 30)) == "2025-W01"


class TestAppointmentRate:
    def test_visits_with_a_kept_appointment_count(self, session):
        """A visit on the local day of the vehicle's kept appointment counts as by appointment."""
        booked = make_vehicle(session)
        walk_in = make_vehicle(session)
        make_visit(session, booked, date(2025, 3, 5))
        make_visit(session, walk_in, date(2025, 3, 5))
        # 00:30 on 5 March in Shanghai is still 4 March in UTC: the local day decides.
        session.add(
            Appointment(
                customer_id=booked.customer_id,
                vehicle_id=booked.id,
                starts_at=datetime(2025, 3, 4, 16, 30, tzinfo=UTC),
                status="completed",
            )
        )
        session.flush()
        [week] = appointment_rate(session, since=MONDAY, until=MONDAY + timedelta(days=6), tz=TZ)
        assert (week.week, week.visits, week.by_appointment, week.appointment_rate) == (
            "2025-W10",
            2,
            1,
            0.5,
        )


class TestWorkshopLoad:
    def test_sums_hours_per_local_day(self, session):
        """Active appointments' labour hours are summed per local day; cancelled ones are not."""
        customer = make_customer(session)
        for hours, status, day in (
            (1.5, "booked", 3),
            (2.0, "booked", 3),
            (4.0, "cancelled", 3),
            (1.0, "booked", 4),
        ):
            session.add(
                Appointment(
                    customer_id=customer.id,
                    starts_at=datetime(2025, 3, day, 2, tzinfo=UTC),
                    status=status,
                    jobs=[
                        AppointmentJob(job_code="j", description="j", labour_hours=hours, price=0)
                    ],
                )
            )
        session.flush()
        load = workshop_load(session, today=MONDAY, tz=TZ, days=3)
        assert [(d.day.day, d.appointments, d.hours) for d in load] == [
            (3, 2, 3.5),
            (4, 1, 1.0),
            (5, 0, 0.0),
        ]


class TestFunnels:
    """Campaign funnels: every campaign present, "due" agrees with ``outreach due``, stages
    reconcile (due >= contacted >= delivered >= replied), the week's change."""

    def test_a_campaign_named_beside_another_counts_in_both(self, session):
        """An offer led by maintenance that also names the seasonal check counts for seasonal."""
        outreach = _outreach(session, attempts=[("sms", "out", "delivered")])
        session.add(
            OutreachReason(
                outreach_id=outreach.id,
                customer_id=outreach.customer_id,
                vehicle_id=outreach.vehicle_id,
                campaign="seasonal",
                subject_key=f"seasonal:test:{outreach.id}",
                due_on=MONDAY,
                reason="pre-winter",
            )
        )
        session.flush()
        rows = campaign_stats(session, since=MONDAY, until=MONDAY)
        assert {(r.campaign, r.due, r.delivered) for r in rows} == {("seasonal", 1, 1)}

    def test_every_enabled_campaign_has_a_funnel(self, session, settings):
        """Seasonal and follow-up are shown even in a week nobody was due for them."""
        funnels = campaign_funnels(session, settings, today=MONDAY)
        names = [f.campaign for f in funnels]
        assert names[:4] == list(campaigns())
        assert all([s.this_week for s in f.stages] == [0] * 6 for f in funnels)

    def test_a_reply_counts_as_delivered(self, session):
        """A customer who answered received us, whatever the provider's status said."""
        _outreach(session, attempts=[("sms", "out", "sent"), ("sms", "in", "received")])
        [row] = campaign_stats(session, since=MONDAY, until=MONDAY)
        assert (row.contacted, row.delivered, row.replied) == (1, 1, 1)

    def test_due_adds_those_still_waiting_as_outreach_due_lists_them(self, session, settings):
        """Five vehicles due for maintenance, two planned today: the funnel says due 5 (2 planned,
        3 waiting), and the 3 are exactly what ``outreach due`` lists."""
        today = date(2025, 3, 5)
        settings = replace(
            settings,
            campaigns=replace(
                settings.campaigns,
                deferred_work=replace(settings.campaigns.deferred_work, enabled=False),
                seasonal=replace(settings.campaigns.seasonal, enabled=False),
                post_service_followup=replace(
                    settings.campaigns.post_service_followup, enabled=False
                ),
            ),
        )
        for _ in range(5):
            make_visit(session, make_vehicle(session), today - timedelta(days=200))
        before = list(iter_due(session, settings, today))
        assert len(before) == 5
        plan_outreach(session, settings, today=today, now=AT, limit=2)
        waiting = list(iter_due(session, settings, today, ["maintenance_interval"]))
        [maintenance] = [
            f for f in campaign_funnels(session, settings, today=today)
            if f.campaign == "maintenance_interval"
        ]  # fmt: skip
        due_stage = maintenance.stages[0]
        assert (due_stage.name, due_stage.this_week) == ("due", 5)
        assert maintenance.waiting == len(waiting) == 3

    def test_the_week_s_change(self, session, settings):
        """This week against the last: two due now, one a week ago."""
        _outreach(session, planned_on=MONDAY + timedelta(days=7))
        _outreach(session, planned_on=MONDAY + timedelta(days=8))
        _outreach(session, planned_on=MONDAY)
        funnels = campaign_funnels(session, settings, today=MONDAY + timedelta(days=9))
        [maintenance] = [f for f in funnels if f.campaign == "maintenance_interval"]
        assert (maintenance.stages[0].this_week, maintenance.stages[0].change) == (2, 1)
