"""How far the model is trusted beside the rules: when :mod:`model` may name a reply's intent.

:mod:`understand` decides by its rules first; then it asks :func:`guess`.  Where no rule holds,
the model names the intent when it is sure enough (:data:`CONFIDENT`); where a rule holds, it
may overrule it as sure as that, except the :data:`FIRM` rules, and never takes a customer away
from a person (:data:`TO_A_PERSON`).  It never fills a slot, and names only what the reply's
slots and the conversation's state allow (:func:`fits`).
"""

from __future__ import annotations

from collections.abc import Callable

from outreach.conversation import model, reading
from outreach.conversation.reading import Slots

# The model's say.  Where no rule holds, it names the intent when it is this sure; where a
# rule holds, it may overrule it as sure as that, except the rules below.  (Chosen on a held-out
# file: at 0.9 its overrulings were right ten times for one wrong.)
CONFIDENT = 0.9
# Rules the model never overrules: the law and the carrier (opt-out, opt-in, HELP), a number,
# a refusal or a name the customer said, a cancellation in words, nothing but pictures, a
# question about a need, the hours or when the next service is due (answered, never acted on),
# a reply of nothing but yes or thanks.
FIRM = frozenset({
    "opt_out_keyword", "opt_out_sentence", "opt_in", "help_keyword", "help_sentence", "empty",
    "option", "reminder_yes", "reminder_change", "option_refused", "technician",
    "cancel_words", "booked_not_coming", "booked_confirm", "need_question", "topic_question",
    "due_question",
    "hours_question", "included_question", "confirm", "thanks", "handoff_ack",
})  # fmt: skip
# Rules that put the customer with a person: the model may move them only to another reason
# for a person, or to an opt-out, never away from a person (nor a rating to anything else).
_PERSON = frozenset({"opt_out", "complaint", "call_me", "other_need"})
TO_A_PERSON: dict[str, frozenset[str]] = {
    "complaint": frozenset({"opt_out"}),
    "reproach": frozenset({"opt_out", "other_need"}),  # a reproach stays a complaint
    "person": _PERSON,
    "wrong_number": _PERSON,
    "other_need": _PERSON | {"wrong_number"},
    # a rating given is never lost to a thank-you; "还不错？呵呵，收了我一千多" is a complaint
    "rating": _PERSON,
}
# A cancellation, or messages started again after an opt-out, needs the customer's own words
# read by a rule: the model never names them.  Stopping messages (opt-out, "not my car") it
# may name, but only as sure as STOP_SURE: sending on to someone who asked us to stop is
# worse than a stop they did not mean (the confirmation tells them; START undoes it).
NEVER_GUESSED = frozenset({"opt_in", "cancel_appointment", "unknown"})
STOPS = frozenset({"opt_out", "wrong_number"})
STOP_SURE = 0.95
# What the model may name only in the state it belongs to (more work needs a booked visit).
_ONLY_IN: dict[str, tuple[str, ...]] = {
    "add_work": ("booked",),
    "running_late": ("booked",),
    "reschedule": ("booked",),  # while times are offered, another time is propose_time
    "rating": ("followup",),
    "choose_option": ("offer",),
}
# What the model may name only when the reply carries the slot the intent needs.
_NEEDS_SLOT: dict[str, Callable[[Slots, int], bool]] = {
    "choose_option": lambda s, n: (reading.option_value(s, n) or 0) in range(1, n + 1),
    "rating": lambda s, n: s.rating is not None,
    "mileage": lambda s, n: s.mileage_km is not None,
    "propose_time": lambda s, n: s.preference is not None,
    "technician": lambda s, n: s.technician is not None,
    "special_service": lambda s, n: bool(s.services),
}


def guess(s: Slots, state: str, rule: str | None, kind: str | None) -> model.Guess | None:
    """The model's reading of a reply, when it ships, it may speak over the rule that held
    (``rule``, which named ``kind``; None when none did) and it is sure enough."""
    shipped = model.shipped()
    if shipped is None or not s.keyword or (rule is not None and rule in FIRM):
        return None
    guess = shipped.guess(s.norm, state)
    if rule is not None:
        allowed = TO_A_PERSON.get(rule)
        if guess.kind in (kind, "wrong_number") or (
            allowed is not None and guess.kind not in allowed
        ):
            return None  # "你们是哪家店" asks who we are: no "not my number" over a rule
    if guess.kind in STOPS and s.only_channel is not None:
        return None  # "别打电话，短信联系就行": one way of contact kept to, not a stop
    sure = guess.confidence >= (STOP_SURE if guess.kind in STOPS else CONFIDENT)
    return guess if sure and guess.kind not in NEVER_GUESSED else None


# A complaint must reach a person however it is worded.  Beside the rules, the model's counts
# read as complaint-or-not (:func:`model.complaints`) flag a reply this sure of being one; the
# reply is still handled as its rule says (an option booked, a rating kept), and a person gets
# the complaint too.  Chosen by the reader alone, trained with one corpus file left out at a
# time: at 0.7 it flagged 410 of the 481 complaints and 16 of 3,080 replies that need no person;
# at 0.6, 443 and 28 (the 12 more are mostly a low rating with a grumble, where a call is no
# harm); at 0.5, 453 and 43.  A missed complaint costs a customer, a false one an advisor's
# call: 0.6.  Played blind, the new file fresh15 queued 41 of its 43 complaints at 0.6 (39 at
# 0.7), the held-out files 121 of 132 (119); the one reply newly read otherwise was a rating
# with a grumble ("2. Took way longer than quoted"), now called back as a complaint.
CONCERN_SURE = 0.6
HIGH_RATING = 4  # a follow-up rated this or better is not read as a complaint by the reader
# Intents that already reach a person (a chase of the promised call stays one: the rules read
# a reproach in it), or where a person is not wanted (an opt-out is not called back).
_NO_CONCERN = frozenset(
    {"complaint", "call_me", "opt_out", "opt_in", "wrong_number", "other_need", "help"}
)
# Intents that ask nothing of the conversation: a complaint flagged in them is all they say.
ONLY_CONCERN = frozenset({"unknown", "question", "thanks"})


def concern(s: Slots, state: str, kind: str) -> bool:
    """Whether a reply understood as ``kind`` reads as a complaint all the same: a person
    should read it (the complaint reader is :data:`CONCERN_SURE` of it)."""
    reader, whole = model.complaints(), model.shipped()
    if reader is None or whole is None or kind in _NO_CONCERN or not s.keyword:
        return False
    if s.has("small_talk"):
        return False  # "lol sorry that was for my wife": meant for someone else
    if state == "followup" and (s.rating or 0) >= HIGH_RATING:
        return False  # "5分，但是刹车还有异响": a remark beside a good rating, read as one
    guess = reader.guess(s.norm, state)
    if guess.kind != "complaint" or guess.confidence < CONCERN_SURE:
        return False
    # The whole model sure of another intent ("很满意，服务态度很好" is a rating) vetoes it.
    other = whole.guess(s.norm, state)
    return other.kind == "complaint" or other.confidence < CONFIDENT


def fits(kind: str, s: Slots, options: int, state: str) -> bool:
    """Whether the model may name ``kind`` for this reply: its state, and the slot it needs."""
    test = _NEEDS_SLOT.get(kind)
    return state in _ONLY_IN.get(kind, (state,)) and (test is None or test(s, options))
