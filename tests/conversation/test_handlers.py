"""The conversation's handlers decide without a database: each test builds a conversation from
plain model objects (never added to a session), asks the handler of ``flow.HANDLERS`` (through
``flow.plan``) what one reply does, and checks the effects it returns."""

from __future__ import annotations

import inspect
from datetime import date, timedelta
from typing import Any

import pytest

from outreach.conversation import effects as fx
from outreach.conversation import flow
from outreach.conversation.convo import Convo
from outreach.conversation.state import State
from outreach.conversation.understand import NEEDS, Intent
from outreach.models import Appointment, AppointmentJob, Customer, Outreach
from outreach.preferences import SlotPreference
from outreach.settings import Settings
from tests.conversation.conftest import NOW

SLOTS = [
    {"starts_at": f"2026-06-0{day}T01:00:00+00:00", "advisor_id": day, "hold_id": day}
    for day in (3, 4, 5)
]


def convo(
    state: State | None = None,
    *,
    appointment: Appointment | None = None,
    channel: str = "sms",
    opted_out: bool = False,
    awaiting_person: bool = False,
    offer_unseen: bool = False,
    **remembered: Any,
) -> Convo:
    """A customer, their conversation in ``state`` remembering ``remembered`` (no conversation
    when ``state`` is None) and their appointment: plain objects, in no session."""
    customer = Customer(
        id=1,
        name="李雷",
        phone="+8613800000001",
        locale="zh-CN",
        opted_out_at=NOW if opted_out else None,
    )
    outreach = None
    if state is not None:
        outreach = Outreach(
            id=7, customer_id=1, status="open", state=state.value, context=remembered
        )
    c = Convo(customer, outreach, appointment, channel)
    c.awaiting_person, c.offer_unseen = awaiting_person, offer_unseen
    return c


def booked(job: str = "maintenance") -> Appointment:
    """A booked visit for tomorrow, with one job."""
    return Appointment(
        id=42, customer_id=1, starts_at=NOW + timedelta(days=1), jobs=[AppointmentJob(job_code=job)]
    )


def plan(settings: Settings, c: Convo, kind: str, **said: Any) -> list[fx.Effect]:
    return flow.plan(settings, c, Intent(kind, **said), NOW)


OFFER = {"slot_list": SLOTS}  # the script's variables while the three slots are on offer
TOMORROW = SlotPreference(on=date(2026, 6, 3))


class TestAnyState:
    """The rows that answer whatever the state (``("*", intent)``)."""

    def test_opt_out(self, settings: Settings) -> None:
        """An opt-out is recorded with the channel and the words."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "opt_out", text="退订")
        assert got == [fx.OptOut("sms: 退订")]

    def test_opt_in(self, settings: Settings) -> None:
        """Taking an opt-out back is recorded with the channel and the words, even opted out."""
        got = plan(settings, convo(opted_out=True), "opt_in", text="START")
        assert got == [fx.OptIn("sms:START")]

    def test_help(self, settings: Settings) -> None:
        """Help is answered with the help script."""
        assert plan(settings, convo(State.OFFERED, slots=SLOTS), "help") == [fx.Say("help")]

    @pytest.mark.parametrize("kind", ["complaint", "call_me", "other_need"])
    def test_a_person(self, settings: Settings, kind: str) -> None:
        """A complaint, a request for a person or a need outside the five: an advisor."""
        assert plan(settings, convo(State.OFFERED, slots=SLOTS), kind) == [fx.HandOff(kind)]

    def test_wrong_number(self, settings: Settings) -> None:
        """A wrong number opts the number out, and an advisor fixes the customer's file."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "wrong_number", text="打错了")
        assert got == [
            fx.OptOut("wrong number: sms: 打错了"),
            fx.QueueCallback("bad_number"),
            fx.Say("wrong_number", handoff=True),
        ]

    def test_thanks(self, settings: Settings) -> None:
        """A thank-you gets no answer."""
        assert plan(settings, convo(State.OFFERED, slots=SLOTS), "thanks") == [fx.Say(None)]

    def test_opted_out_complaint(self, settings: Settings) -> None:
        """An opted-out customer's complaint reaches a person, and nothing is said to them."""
        got = plan(settings, convo(opted_out=True), "complaint")
        assert got == [fx.HandOff("complaint", quiet=True)]

    def test_opted_out_booking(self, settings: Settings) -> None:
        """An opted-out customer asking to book is answered with nothing."""
        assert plan(settings, convo(opted_out=True), "book_request") == [fx.Say(None)]

    def test_concern(self, settings: Settings) -> None:
        """A choice with a complaint beside it books, and then queues the complaint."""
        c = convo(State.OFFERED, slots=SLOTS)
        got = plan(settings, c, "choose_option", option=2, concern=True)
        assert got == [fx.Take(SLOTS[1]), fx.QueueCallback("complaint")]

    def test_a_way_of_contact_kept_to_beside_a_choice(self, settings: Settings) -> None:
        """ "别打电话，短信联系就行，我选3": texts only, then the choice booked."""
        c = convo(State.OFFERED, slots=SLOTS)
        got = plan(settings, c, "choose_option", option=3, only_channel="sms", text="我选3")
        assert got == [fx.KeepTo("sms", "sms: 我选3"), fx.Take(SLOTS[2])]

    def test_a_way_of_contact_kept_to_alone_is_noted(self, settings: Settings) -> None:
        """Said alone, it is noted with the times still on offer (no miss counted)."""
        c = convo(State.OFFERED, slots=SLOTS)
        got = plan(settings, c, "unknown", only_channel="voice", text="别发短信，打电话")
        assert got == [
            fx.KeepTo("voice", "sms: 别发短信，打电话"),
            fx.Say("channel_noted", {"only_channel": "voice", **OFFER}),
        ]

    def test_an_opted_out_customer_keeps_to_nothing(self, settings: Settings) -> None:
        """Opted out: nothing is said, and no way of contact is opened again."""
        c = convo(State.OFFERED, opted_out=True, slots=SLOTS)
        assert plan(settings, c, "unknown", only_channel="sms") == [fx.Say(None)]


class TestNoConversation:
    """The row ``("none", "*")``: no open conversation, with or without an appointment."""

    def test_book_with_a_need(self, settings: Settings) -> None:
        """A request naming the need opens an inbound conversation and offers slots."""
        got = plan(settings, convo(), "book_request", need="maintenance", preference=TOMORROW)
        assert got == [fx.Open("inbound", need="maintenance"), fx.Offer(TOMORROW)]

    def test_book_without_a_need(self, settings: Settings) -> None:
        """A request without a need opens a conversation that asks for it, keeping the day."""
        got = plan(settings, convo(), "book_request", preference=TOMORROW)
        assert got == [
            fx.Open("inbound", State.ASKED_NEED, preference={"on": "2026-06-03"}),
            fx.Say("ask_need"),
        ]

    def test_a_fault_is_a_repair(self, settings: Settings) -> None:
        """A fault said to book is a repair, and is put on file first."""
        got = plan(settings, convo(), "book_request", fault="刹车异响")
        assert got == [
            fx.NoteFacts(None, "刹车异响"),
            fx.Open("inbound", need="repair"),
            fx.Offer(),
        ]

    def test_arrival(self, settings: Settings) -> None:
        """A yes from a booked customer confirms they are coming."""
        appt = booked()
        got = plan(settings, convo(appointment=appt), "confirm")
        assert got == [fx.ConfirmArrival(appt), fx.Say("arrival_confirmed", {"appointment": appt})]

    def test_reschedule(self, settings: Settings) -> None:
        """A booked customer asking to move opens a reschedule and offers slots."""
        appt = booked()
        got = plan(settings, convo(appointment=appt), "reschedule", preference=TOMORROW)
        assert got == [
            fx.Open("reschedule", mode="reschedule", appointment_id=42),
            fx.Offer(TOMORROW, intro="reschedule"),
        ]

    def test_cancel(self, settings: Settings) -> None:
        """A booked customer cancelling cancels their appointment."""
        appt = booked()
        assert plan(settings, convo(appointment=appt), "cancel_appointment") == [fx.Cancel(appt)]

    def test_cancel_without_an_appointment(self, settings: Settings) -> None:
        """Cancelling with nothing booked is answered as such."""
        assert plan(settings, convo(), "cancel_appointment") == [fx.Say("no_appointment")]

    def test_running_late(self, settings: Settings) -> None:
        """Running late goes on the appointment's notes."""
        appt = booked()
        got = plan(settings, convo(appointment=appt), "running_late", text="晚到十分钟")
        assert got == [
            fx.NoteOnAppointment(appt, "晚到十分钟"),
            fx.Say("late_noted", {"appointment": appt}),
        ]

    def test_other_work(self, settings: Settings) -> None:
        """Asking for other work than the visit holds adds it, for an advisor to confirm."""
        appt = booked()
        got = plan(
            settings, convo(appointment=appt), "book_request", text="还要修车", need="repair"
        )
        assert got == [
            fx.NoteOnAppointment(appt, "还要修车"),
            fx.QueueCallback("extra_work"),
            fx.Say("extra_work_noted", {"appointment": appt}),
        ]

    def test_the_same_work(self, settings: Settings) -> None:
        """Asking again for the work booked is told it is booked."""
        appt = booked()
        got = plan(settings, convo(appointment=appt), "book_request", need="maintenance")
        assert got == [fx.Say("already_booked", {"appointment": appt})]

    def test_technician_on_the_appointment(self, settings: Settings) -> None:
        """A technician and a service asked for go on the appointment, in the customer's words."""
        appt = booked()
        c = convo(appointment=appt)
        got = plan(settings, c, "technician", technician="王师傅", services=("car_wash",))
        assert got == [
            fx.NotePreference("王师傅", ("洗车",), appt),
            fx.Say("preference_noted", {"technician": "王师傅", "services": ["洗车"]}),
        ]

    def test_sold_car_booked(self, settings: Settings) -> None:
        """A booked car sold: a person sorts out the appointment."""
        got = plan(settings, convo(appointment=booked()), "decline", because="vehicle_sold")
        assert got == [fx.HandOff("vehicle_sold")]

    def test_sold_car(self, settings: Settings) -> None:
        """A car sold, with nothing booked, leaves the campaigns."""
        got = plan(settings, convo(), "decline", because="vehicle_sold")
        assert got == [fx.VehicleSold(None), fx.Say("declined", {"because": "vehicle_sold"})]

    def test_waiting_for_a_person(self, settings: Settings) -> None:
        """While a person is to call, the mileage waits for them, and no booking starts."""
        c = convo(awaiting_person=True)
        got = plan(settings, c, "choose_option", option=1, mileage_km=30000)
        assert got == [
            fx.NoteFacts(30000, None),
            fx.NoteWhileWaiting(fx.NoteFacts(30000, None), fx.NotePreference(None, ())),
            fx.Say("handoff_pending"),
        ]

    def test_no_call_needed_while_waiting(self, settings: Settings) -> None:
        """ "不用打了，已经修好了": the call is called off, and the no acknowledged."""
        c = convo(awaiting_person=True)
        got = plan(settings, c, "decline", text="不用打了，已经修好了")
        assert got == [fx.CallOff("不用打了，已经修好了"), fx.Say("declined", {"because": None})]

    def test_ok_while_waiting(self, settings: Settings) -> None:
        """An OK to "an advisor will call you" needs no answer and notes nothing."""
        assert plan(settings, convo(awaiting_person=True), "confirm") == [fx.Say(None)]


class TestOffered:
    """The rows ``("new", "*")`` and ``("offered", "*")``: slots are on offer."""

    def test_choose(self, settings: Settings) -> None:
        """Option 2 of three books the second slot."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "choose_option", option=2)
        assert got == [fx.Take(SLOTS[1])]

    def test_choose_when_new(self, settings: Settings) -> None:
        """A new conversation reads a choice as an offered one does."""
        got = plan(settings, convo(State.NEW, slots=SLOTS), "choose_option", option=3)
        assert got == [fx.Take(SLOTS[2])]

    def test_yes_to_one_slot(self, settings: Settings) -> None:
        """A yes to a single slot books it."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS[:1]), "confirm")
        assert got == [fx.Take(SLOTS[0])]

    def test_yes_to_three(self, settings: Settings) -> None:
        """A yes to three slots asks which."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS, misses=1), "confirm")
        assert got == [fx.Remember(misses=0), fx.Say("which_option", OFFER)]

    def test_a_time(self, settings: Settings) -> None:
        """A time asked for is offered, booked at once on an exact match."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "propose_time", preference=TOMORROW)
        assert got == [fx.Offer(TOMORROW, exact=True)]

    def test_a_time_on_the_day_asked(self, settings: Settings) -> None:
        """A time with no day of its own keeps the day asked for in the last reply."""
        c = convo(State.OFFERED, slots=SLOTS, asked={"on": "2026-06-03"})
        got = plan(settings, c, "propose_time", preference=SlotPreference(part_of_day="afternoon"))
        assert got == [
            fx.Offer(SlotPreference(on=date(2026, 6, 3), part_of_day="afternoon"), exact=True)
        ]

    def test_first_miss(self, settings: Settings) -> None:
        """A first reply not understood gets a clarifying question with the slots."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "unknown")
        assert got == [fx.Remember(misses=1), fx.Say("clarify", OFFER)]

    def test_second_miss(self, settings: Settings) -> None:
        """A second miss in a row goes to an advisor."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS, misses=1), "unknown")
        assert got == [fx.Remember(misses=2), fx.HandOff("not_understood")]

    def test_unseen_offer(self, settings: Settings) -> None:
        """Words before the offer has left show the slots, and count no miss."""
        c = convo(State.OFFERED, slots=SLOTS, offer_unseen=True)
        assert plan(settings, c, "unknown") == [fx.Say("slot_options", {"intro": None, **OFFER})]

    def test_mileage(self, settings: Settings) -> None:
        """The mileage is put on file and said back, with the slots."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "mileage", mileage_km=52000)
        assert got == [
            fx.NoteFacts(52000, None),
            fx.Remember(misses=0),
            fx.Say("noted", {"noted": {"mileage_km": 52000, "fault": None}, **OFFER}),
        ]

    def test_a_service(self, settings: Settings) -> None:
        """A special service is kept by the conversation for the visit it books."""
        c = convo(State.OFFERED, slots=SLOTS)
        got = plan(settings, c, "special_service", services=("courtesy_car",))
        assert got == [
            fx.Remember(misses=0),
            fx.NotePreference(None, ("代步车",)),
            fx.Say("preference_noted", {"technician": None, "services": ["代步车"], **OFFER}),
        ]

    def test_decline(self, settings: Settings) -> None:
        """A no with its reason declines."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "decline", because="later")
        assert got == [fx.Decline("later")]

    def test_cancel_a_reschedule(self, settings: Settings) -> None:
        """Cancelling while rescheduling cancels the appointment itself."""
        appt = booked()
        c = convo(State.OFFERED, appointment=appt, slots=SLOTS, mode="reschedule")
        assert plan(settings, c, "cancel_appointment") == [fx.Cancel(appt)]

    def test_book_another_need(self, settings: Settings) -> None:
        """A request naming a need remembers it and offers again."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "book_request", need="repair")
        assert got == [fx.Remember(need="repair"), fx.Offer()]

    def test_question(self, settings: Settings) -> None:
        """A price question is answered from the scripts, with the slots."""
        c = convo(State.OFFERED, slots=SLOTS, jobs=["maintenance"])
        got = plan(settings, c, "question", topic="price")
        answer = {"topic": "price", "price": 680.0, "hours": 1.5}
        assert got == [fx.Remember(misses=0), fx.Say("answer", {"answer": answer, **OFFER})]

    def test_question_unknown(self, settings: Settings) -> None:
        """A question the scripts cannot answer goes to a person."""
        got = plan(settings, convo(State.OFFERED, slots=SLOTS), "question")
        assert got == [fx.HandOff("question")]


class TestAskedNeed:
    """The row ``("asked_need", "*")``: an inbound customer was asked what they need."""

    def test_choose(self, settings: Settings) -> None:
        """Need 2 is remembered and slots are offered for the day said before."""
        c = convo(State.ASKED_NEED, preference={"on": "2026-06-03"})
        got = plan(settings, c, "choose_option", option=2)
        assert got == [fx.Remember(need=NEEDS[1], misses=0), fx.Offer(TOMORROW)]

    def test_miss(self, settings: Settings) -> None:
        """A reply with neither a need nor a time asks for the need again."""
        assert plan(settings, convo(State.ASKED_NEED), "unknown") == [
            fx.Remember(misses=1),
            fx.Say("ask_need", {}),
        ]

    def test_decline(self, settings: Settings) -> None:
        """A no declines."""
        assert plan(settings, convo(State.ASKED_NEED), "decline") == [fx.Decline(None)]


class TestFollowup:
    """The row ``("followup", "*")``: after a visit, a rating asked for."""

    def test_low_rating(self, settings: Settings) -> None:
        """A low rating closes the follow-up, queues a call and says sorry."""
        assert plan(settings, convo(State.FOLLOWUP), "choose_option", rating=1) == [
            fx.Rate(1),
            fx.Close("closed", "rated 1/5: advisor to call"),
            fx.QueueCallback("low_rating"),
            fx.Say("followup_reply", {"reply": "sorry"}, handoff=True),
        ]

    def test_low_rating_with_a_complaint(self, settings: Settings) -> None:
        """A low rating with a complaint queues the complaint, not a second callback."""
        got = plan(settings, convo(State.FOLLOWUP), "choose_option", rating=2, concern=True)
        assert got == [
            fx.Rate(2),
            fx.Close("closed", "rated 2/5: advisor to call"),
            fx.Say("followup_reply", {"reply": "sorry"}, handoff=True),
            fx.QueueCallback("complaint"),
        ]

    def test_good_rating(self, settings: Settings) -> None:
        """A good rating closes the follow-up with thanks."""
        assert plan(settings, convo(State.FOLLOWUP), "choose_option", rating=5) == [
            fx.Rate(5),
            fx.Close("closed", "rated 5/5"),
            fx.Say("followup_reply", {"reply": "thanks"}),
        ]

    def test_remarks(self, settings: Settings) -> None:
        """Words without a rating go to an advisor to read."""
        assert plan(settings, convo(State.FOLLOWUP), "unknown") == [
            fx.Rate(None),
            fx.Close("closed", "remarks: advisor to read"),
            fx.QueueCallback("feedback"),
            fx.Say("followup_reply", {"reply": "noted"}),
        ]

    def test_a_plain_yes(self, settings: Settings) -> None:
        """A yes without a rating closes the follow-up and says nothing."""
        assert plan(settings, convo(State.FOLLOWUP), "confirm") == [
            fx.Rate(None),
            fx.Close("closed", "followed up: no rating"),
            fx.Say(None, {"reply": "thanks"}),
        ]

    def test_book_again(self, settings: Settings) -> None:
        """Asking to come in again turns the follow-up into an offer."""
        got = plan(settings, convo(State.FOLLOWUP), "book_request")
        assert got == [fx.BookAgain(), fx.Offer()]


def test_every_row_is_tested() -> None:
    """Each row of the table has its tests here (a new row needs its own)."""
    rows = {
        ("*", "opt_out"): TestAnyState.test_opt_out,
        ("*", "opt_in"): TestAnyState.test_opt_in,
        ("*", "help"): TestAnyState.test_help,
        ("*", "complaint"): TestAnyState.test_a_person,
        ("*", "call_me"): TestAnyState.test_a_person,
        ("*", "other_need"): TestAnyState.test_a_person,
        ("*", "wrong_number"): TestAnyState.test_wrong_number,
        ("*", "thanks"): TestAnyState.test_thanks,
        ("none", "*"): TestNoConversation,
        ("new", "*"): TestOffered.test_choose_when_new,
        ("offered", "*"): TestOffered,
        ("asked_need", "*"): TestAskedNeed,
        ("followup", "*"): TestFollowup,
    }
    assert rows.keys() == flow.HANDLERS.keys()


@pytest.mark.parametrize("handler", list(flow.HANDLERS.values()))
def test_handlers_take_no_session(handler: flow.Handler) -> None:
    """Every handler decides from the settings, the conversation, the reply and the time."""
    assert list(inspect.signature(handler).parameters) == ["settings", "c", "intent", "now"]


def test_deciding_changes_nothing(settings: Settings) -> None:
    """Planning a reply leaves the conversation as it was (the effects do the changing)."""
    c = convo(State.OFFERED, slots=SLOTS, misses=1)
    before = dict(c.outreach.context) if c.outreach is not None else None
    plan(settings, c, "unknown", mileage_km=1000)
    assert c.outreach is not None and c.outreach.context == before
    assert c.outreach.state == "offered" and c.outreach.status == "open"
