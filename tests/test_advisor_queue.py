"""The desk's domain: claiming, outcomes, the customer file and the appointment board."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from outreach.advisor_queue import DeskError, claim, customer_file, list_callbacks, record_outcome
from outreach.appointment_board import board
from outreach.db import make_sessionmaker
from outreach.models import Advisor, Appointment, AppointmentJob, CallbackRequest, Outreach
from tests.factories import make_advisor, make_customer, make_item, make_vehicle, make_visit

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


def _callback(session, **overrides):
    customer = overrides.pop("customer", None) or make_customer(session)
    values = {
        "customer_id": customer.id,
        "reason": "call_me",
        "created_at": NOW - timedelta(minutes=90),
    }
    values.update(overrides)
    row = CallbackRequest(**values)
    session.add(row)
    session.flush()
    return row


class TestList:
    def test_most_urgent_first(self, session):
        """Entries come by priority, then oldest first."""
        late = _callback(session, priority=50, created_at=NOW - timedelta(hours=1))
        early = _callback(session, priority=50, created_at=NOW - timedelta(hours=3))
        urgent = _callback(session, priority=10)
        waiting, _ = list_callbacks(session, now=NOW)
        assert [e.callback.id for e in waiting] == [urgent.id, early.id, late.id]

    def test_overdue_against_the_reason_target(self, session):
        """A 90-minute-old complaint is overdue (30 min); an asked-for call is not (2 h)."""
        _callback(session, reason="complaint")
        _callback(session, reason="call_me")
        waiting, _ = list_callbacks(session, now=NOW)
        assert [(e.callback.reason, e.overdue) for e in waiting] == [
            ("complaint", True),
            ("call_me", False),
        ]

    def test_call_again_waits_until_its_time(self, session):
        """An entry to call again later is listed apart until its time comes, then ages from it."""
        row = _callback(session, call_again_at=NOW + timedelta(hours=1))
        waiting, later = list_callbacks(session, now=NOW)
        assert (waiting, [e.callback.id for e in later]) == ([], [row.id])
        waiting, _ = list_callbacks(session, now=NOW + timedelta(hours=2))
        assert waiting[0].age == timedelta(hours=1)

    def test_done_entries_leave_the_queue(self, session):
        """Closed entries are not listed."""
        _callback(session, status="done")
        assert list_callbacks(session, now=NOW) == ([], [])


class TestClaim:
    def test_only_the_first_claim_wins(self, session):
        """A second claim of the same entry fails and keeps the first claimer."""
        row = _callback(session)
        assert claim(session, row.id, user_id=1, now=NOW)
        assert not claim(session, row.id, user_id=2, now=NOW)
        assert session.get(CallbackRequest, row.id).claimed_by == 1

    @pytest.mark.parametrize(
        "committing_engine",
        ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
        indirect=True,
    )
    def test_two_advisors_racing(self, committing_engine):
        """Two advisors claiming at the same moment in two transactions: exactly one wins."""
        sessions = make_sessionmaker(committing_engine)
        with sessions() as s:
            row_id = _callback(s).id
            s.commit()
        barrier = threading.Barrier(2)
        results: dict[int, bool] = {}
        errors: list[BaseException] = []

        def advisor(user_id: int) -> None:
            try:
                with sessions() as s:
                    barrier.wait()
                    results[user_id] = claim(s, row_id, user_id=user_id, now=NOW)
                    s.commit()
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=advisor, args=(n,)) for n in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(results.values()) == [False, True]
        winner = next(u for u, won in results.items() if won)
        with sessions() as s:
            assert s.get(CallbackRequest, row_id).claimed_by == winner


class TestOutcome:
    def test_needs_the_claimer(self, session):
        """Only the advisor who claimed the entry records its outcome."""
        row = _callback(session)
        claim(session, row.id, user_id=1, now=NOW)
        with pytest.raises(DeskError, match="claim"):
            record_outcome(session, row.id, user_id=2, outcome="declined", now=NOW)

    def test_unknown_outcome_is_refused(self, session):
        """An outcome outside the list is refused, naming the allowed ones."""
        row = _callback(session)
        claim(session, row.id, user_id=1, now=NOW)
        with pytest.raises(DeskError, match="booked, declined"):
            record_outcome(session, row.id, user_id=1, outcome="maybe", now=NOW)

    def test_declined_closes_the_outreach(self, session):
        """ "Declined" closes the customer's open outreach as declined (the cooldown starts)."""
        customer = make_customer(session)
        outreach = Outreach(
            customer_id=customer.id, status="open", campaign="seasonal", planned_on=date(2025, 3, 1)
        )
        session.add(outreach)
        session.flush()
        row = _callback(session, customer=customer, outreach_id=outreach.id)
        claim(session, row.id, user_id=1, now=NOW)
        record_outcome(session, row.id, user_id=1, outcome="declined", now=NOW)
        session.refresh(outreach)
        assert (outreach.status, outreach.closed_at) == ("declined", NOW)

    def test_call_again_in_the_past_is_refused(self, session):
        """ "Call again" needs a time after now."""
        row = _callback(session)
        claim(session, row.id, user_id=1, now=NOW)
        with pytest.raises(DeskError, match="future"):
            record_outcome(
                session,
                row.id,
                user_id=1,
                outcome="call_again",
                call_again_at=NOW - timedelta(minutes=1),
                now=NOW,
            )


class TestCustomerFile:
    def test_newest_visits_and_open_items(self, session):
        """The file lists the newest visits first and only deferred work not yet done."""
        vehicle = make_vehicle(session)
        make_visit(session, vehicle, date(2024, 6, 1), 20000)
        make_visit(session, vehicle, date(2024, 12, 1), 30000)
        make_item(session, vehicle, date(2025, 4, 1), description="open")
        make_item(session, vehicle, date(2025, 2, 1), description="done", done_at=NOW)
        [f] = customer_file(session, vehicle.customer_id)
        assert [v.odometer_km for v in f.visits] == [30000, 20000]
        assert [d.description for d in f.deferred] == ["open"]


class TestBoard:
    def _appointment(self, session: Session, advisor: Advisor | None, local_hour: int, **kw):
        vehicle = make_vehicle(session)
        starts = datetime(2025, 3, 11, local_hour, 15, tzinfo=TZ)
        session.add(
            Appointment(
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                starts_at=starts,
                advisor_id=advisor.id if advisor else None,
                jobs=[
                    AppointmentJob(job_code="a", description="a", labour_hours=1.25, price=0),
                    AppointmentJob(job_code="b", description="b", labour_hours=0.5, price=0),
                ],
                **kw,
            )
        )
        session.flush()

    def test_groups_by_advisor_and_hour(self, session):
        """The board groups a day's appointments per advisor (unassigned last) and per hour."""
        wang = make_advisor(session, name="王芳")
        self._appointment(session, wang, 9)
        self._appointment(session, wang, 9)
        self._appointment(session, wang, 14)
        self._appointment(session, None, 10)
        self._appointment(session, wang, 11, status="cancelled")
        groups = board(session, date(2025, 3, 11), tz=TZ)
        assert [(g.advisor, g.count) for g in groups] == [("王芳", 3), (None, 1)]
        assert list(groups[0].intervals) == ["09:00–10:00", "14:00–15:00"]
        assert groups[0].intervals["09:00–10:00"][0].hours == 1.75

    def test_local_day_bounds(self, session):
        """An appointment at 07:15 local on the 11th is on the 11th's board, not the 10th's."""
        self._appointment(session, None, 7)
        assert board(session, date(2025, 3, 10), tz=TZ) == []
        assert len(board(session, date(2025, 3, 11), tz=TZ)) == 1
