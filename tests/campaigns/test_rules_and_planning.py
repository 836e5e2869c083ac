"""Contact rules shared by all campaigns, and merging a customer's reasons into one outreach."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from outreach.campaigns import iter_due
from outreach.models import ContactAttempt, Outreach, OutreachReason
from outreach.planning import plan_outreach
from tests.campaigns.conftest import configure
from tests.factories import make_customer, make_item, make_vehicle, make_visit

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


@pytest.fixture
def s(settings):
    return configure(settings, "maintenance_interval", lead_days=0)


def due_customer(session, **overrides):
    c = make_customer(session, **overrides)
    v = make_vehicle(session, c)
    make_visit(session, v, date(2026, 8, 1), 20_000)
    make_item(session, v, date(2026, 12, 1))
    return c, v


class TestMerging:
    def test_a_customer_due_for_several_reasons_gets_one_outreach(self, session, s):
        """Maintenance, a deferred item and the open pre-winter season become one outreach."""
        c, _ = due_customer(session)
        [outreach] = plan_outreach(session, s, today=TODAY, now=NOW)
        assert outreach.customer_id == c.id
        campaigns = sorted(r.campaign for r in outreach.reasons)
        assert campaigns == ["deferred_work", "maintenance_interval", "seasonal"]
        assert outreach.campaign == "deferred_work"  # the safety item leads

    def test_planning_twice_plans_nothing_new(self, session, s):
        """A second planning run finds the customer busy and the reasons already acted on."""
        due_customer(session)
        assert len(plan_outreach(session, s, today=TODAY, now=NOW)) == 1
        assert plan_outreach(session, s, today=TODAY, now=NOW) == []
        assert session.scalar(select(func.count()).select_from(OutreachReason)) == 3

    def test_limit_takes_the_soonest_due_first(self, session, s):
        """With room for one, the customer due earliest is planned and the other waits."""
        late = make_customer(session)
        v = make_vehicle(session, late)
        make_visit(session, v, date(2026, 8, 20))
        early = make_customer(session)
        v = make_vehicle(session, early)
        make_visit(session, v, date(2026, 8, 1))
        [planned] = plan_outreach(session, s, today=TODAY, now=NOW, limit=1)
        assert planned.customer_id == early.id


class TestRules:
    def test_open_outreach_blocks_new_reasons(self, session, s):
        """A customer already in a conversation is not selected by any campaign."""
        c, _ = due_customer(session)
        session.add(Outreach(customer_id=c.id, campaign="seasonal", planned_on=TODAY))
        session.flush()
        assert list(iter_due(session, s, TODAY)) == []

    def test_cooldown_after_no_thanks(self, session, s):
        """A "no thanks" 29 days ago blocks; 31 days ago it no longer does (30-day cooldown)."""
        c, _ = due_customer(session)
        declined = Outreach(
            customer_id=c.id,
            campaign="seasonal",
            planned_on=TODAY,
            status="declined",
            closed_at=NOW - timedelta(days=29),
        )
        session.add(declined)
        session.flush()
        assert list(iter_due(session, s, TODAY, ["maintenance_interval"])) == []
        declined.closed_at = NOW - timedelta(days=31)
        session.flush()
        assert len(list(iter_due(session, s, TODAY, ["maintenance_interval"]))) == 1

    def test_cap_on_contacts_in_30_days(self, session, s):
        """Three outbound contacts in 30 days reach the cap; two do not."""
        c, _ = due_customer(session)
        for days in (1, 10):
            session.add(
                ContactAttempt(
                    customer_id=c.id,
                    at=NOW - timedelta(days=days),
                    channel="sms",
                    direction="out",
                    kind="offer",
                )
            )
        session.flush()
        assert len(list(iter_due(session, s, TODAY, ["maintenance_interval"]))) == 1
        session.add(
            ContactAttempt(
                customer_id=c.id,
                at=NOW - timedelta(days=20),
                channel="sms",
                direction="out",
                kind="offer",
            )
        )
        session.flush()
        assert list(iter_due(session, s, TODAY, ["maintenance_interval"])) == []

    def test_disabled_campaigns_select_nothing(self, session, settings):
        """A campaign switched off in configuration is silent."""
        due_customer(session)
        off = replace(
            settings,
            campaigns=replace(
                settings.campaigns,
                deferred_work=replace(settings.campaigns.deferred_work, enabled=False),
            ),
        )
        assert list(iter_due(session, off, TODAY, ["deferred_work"])) == []

    def test_unknown_campaign_is_a_clear_error(self, session, settings):
        """Asking for a campaign that does not exist names the known ones."""
        with pytest.raises(ValueError, match="unknown campaign 'nope'"):
            list(iter_due(session, settings, TODAY, ["nope"]))
