"""The verdict on one played reply: which intent its effects show, and whether that is right.

Effects decide first (an appointment booked at option 2 *is* choose_option 2, a complaint in the
advisors' queue *is* a complaint); the intent the conversation reported for the message only
settles what the records cannot tell apart (a question answered and a "thanks" both leave the
records as they were).  Every rule is a row below, in order: the first that matches decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from outreach.evaluation.corpus import Reply
from outreach.evaluation.observe import Effects

NOTHING = "nothing_done"  # the reply left no trace where its intent must leave one

# Callback reasons, most telling first, and the intent each one shows.
_CALLBACK_INTENTS = (
    ("complaint", "complaint"),
    ("call_me", "call_me"),
    ("asked_for_call", "call_me"),
    ("other_need", "other_need"),
    ("bad_number", "wrong_number"),
    ("vehicle_sold", "decline"),
    ("extra_work", "add_work"),
    ("low_rating", "rating"),
    ("question", "question"),
    ("not_understood", "unknown"),
    ("voice_not_understood", "unknown"),
)
# Callbacks the bot files for itself (nothing free to offer), not because of what was said.
_NOT_ABOUT_THE_REPLY = frozenset({"no_slots"})
# Remarks after a visit that an advisor reads ("feedback" callback) without a rating.
_REMARKS = frozenset({"fault", "question", "unknown", "mileage", "other_need", "complaint"})
# Intents whose right handling may leave the records as they were, per state.
QUIET = {
    "offer": frozenset({"help", "thanks", "unknown", "question", "confirm"}),
    "booked": frozenset({"help", "thanks", "unknown", "question"}),
    "followup": frozenset({"help", "thanks", "unknown"}),
    "handoff": frozenset(
        {"help", "thanks", "unknown", "question", "confirm", "decline", "fault", "mileage"}
    ),
    "none": frozenset({"help", "thanks", "unknown", "question", "opt_in", "decline", "confirm"}),
}
# What may open a new conversation (a greeting or an unclear first text is asked what it needs).
_STARTS_BOOKING = frozenset(
    {"book_request", "propose_time", "fault", "special_service", "technician", "mileage", "unknown"}
)


@dataclass(frozen=True)
class Verdict:
    reply: Reply
    got: str  # the intent the effects show
    detail: str  # the slots beside it ("option 2", "because later") or what went wrong
    ok: bool
    answer: str  # what the customer was told (SMS text or spoken)
    queued: bool  # a callback was filed: a person will call the customer

    @property
    def complaint_queued(self) -> bool | None:
        """For a complaint: did a person get it (any callback counts here; the verdict wants
        the complaint reason)."""
        return self.queued if self.reply.intent == "complaint" else None

    @property
    def opt_out_honoured(self) -> bool | None:
        """For an opt-out: were they opted out and their queued messages cancelled."""
        return self.ok if self.reply.intent == "opt_out" else None


def judge(reply: Reply, e: Effects, answer: str) -> Verdict:
    """The verdict for ``reply`` given its effects and what it was answered."""
    got = shown_intent(reply.state, reply.channel, e)
    detail, ok = _slots(reply, e, got)
    queued = any(reason not in _NOT_ABOUT_THE_REPLY for reason in e.callbacks)
    return Verdict(reply, got, detail, ok and got == reply.intent, answer, queued)


def shown_intent(state: str, channel: str, e: Effects) -> str:
    """The intent the effects show in ``state`` (the reported intent settles ties)."""
    reported = e.reported
    if e.opted_out:
        return "wrong_number" if "bad_number" in e.callbacks else "opt_out"
    if e.opted_in:
        return "opt_in"
    for reason, intent in _CALLBACK_INTENTS:
        if reason in e.callbacks:
            return intent
    if "feedback" in e.callbacks:
        if e.rating is not None:
            return "rating"
        return reported if reported in _REMARKS else "remark"
    if e.cancelled:
        return "cancel_appointment"
    if e.moved:
        return "reschedule"
    if e.booked_at is not None:
        if state == "offer":
            if e.option is None or reported == "propose_time":
                return "propose_time"  # a time asked for may be one of the offered ones
            return "choose_option"
        if state == "booked":
            return "reschedule"
        return _starts_booking(reported)
    if e.confirmed:
        return "confirm"
    if e.rating is not None:
        return "rating"
    if e.declined or e.vehicle_sold:
        return "decline"
    if e.technician or e.services:
        both = e.technician and e.services
        if both and reported in ("technician", "special_service"):
            return reported
        return "technician" if e.technician else "special_service"
    if e.noted_on_appointment:
        return "running_late"
    if e.fault or e.mileage:
        if reported in ("fault", "mileage"):
            return reported
        return "fault" if e.fault else "mileage"
    if e.offered:
        if state == "booked":
            return "reschedule"
        if state == "offer":
            return "propose_time"  # other times asked for, whatever the words
        return _starts_booking(reported)
    if e.closed:
        return reported if reported in ("thanks", "confirm", "decline", "unknown") else "closed"
    return _quiet(state, channel, e)


def _starts_booking(reported: str | None) -> str:
    """A booking started outside an offer: what the reply carried (a fault, a service…);
    outside an offer, asking for a time is asking for a booking."""
    if reported == "propose_time" or reported not in _STARTS_BOOKING:
        return "book_request"
    return reported


def _quiet(state: str, channel: str, e: Effects) -> str:
    """A reply that left the records as they were: the reported intent, if it may do that."""
    if e.reported is not None:
        return e.reported if e.reported in QUIET[state] else NOTHING
    if channel == "voice":
        return "unknown" if e.retried else "question"
    return "unknown" if e.answered else "thanks"


def _slots(reply: Reply, e: Effects, got: str) -> tuple[str, bool]:
    """What the reply carried beside its intent, checked: option, reason, rating, opt-out."""
    if got == "choose_option":
        return f"option {e.option}", e.option == reply.option
    if got == "decline":
        return f"because {e.because}", reply.because is None or e.because == reply.because
    if got == "rating":
        return f"rating {e.rating}", reply.rating is None or e.rating == reply.rating
    if got == "opt_out":
        if e.left_queued == 0:
            return "opted out, nothing left queued", True
        return f"opted out but {e.left_queued} queued message(s) not cancelled", False
    if got == "propose_time" and e.booked_at is not None:
        return f"booked {e.booked_at:%Y-%m-%d %H:%M}Z", True
    return "", True
