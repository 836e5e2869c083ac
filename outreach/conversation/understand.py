"""What a customer's reply means: one :class:`Intent` per message, Chinese, English or mixed.

Three steps, each readable on its own: :func:`normal.normalise` (one form of the text),
:func:`reading.read` (every slot the reply carries, from the lexicon in ``outreach/lexicon``),
then :data:`RULES`, the precedence table: the first rule whose condition holds for the slots
*and the conversation's state* names the intent, and the :class:`Intent` says which rule it was
(``outreach understand "TEXT"`` prints it).  Rules first: every decision can be read.  Then
:mod:`model` (trained on our own labelled replies) is asked, within the limits of :mod:`trust`:
where no rule holds it may name the intent when it is sure enough, and over a rule only as sure
as that, never over the firm rules (the law, a number, a refusal, a name, a cancellation in
words) and never away from a person; the :class:`Intent` then names the rule it overruled and
the grams that decided.

The precedence, most binding first, and why:

1. opt-out (carrier keywords, the sentences) — the law and the carrier's block; a bare
   ``CANCEL`` is always an opt-out, as the carriers read it (cancelling an appointment takes
   words: "cancel my appointment", "取消预约", a bare "取消");
2. START / HELP keywords;
3. a complaint or a reproach about past work, then "wrong number", then a request for a
   person — a person before any booking;
4. the appointment itself: cancel, reschedule (a booked customer's "1" confirms, "2" changes);
5. what the state asks for: an option while slots are offered, a rating after a visit, a
   confirmation or added work while booked;
6. the rest: a technician, special services, a need outside the five (a person), a fault, a
   reason not to book, the mileage, a no, a question, a booking request, a time, running
   late, yes, thanks; anything else is the model's, or ``unknown``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from outreach import lexicon
from outreach.conversation import model, normal, reading, trust, when
from outreach.conversation.reading import Slots
from outreach.preferences import SlotPreference

KINDS = (
    "choose_option", "propose_time", "confirm", "decline", "opt_out", "opt_in", "help",
    "call_me", "complaint", "reschedule", "cancel_appointment", "question", "mileage", "fault",
    "wrong_number", "thanks", "running_late", "book_request", "technician", "special_service",
    "rating", "add_work", "other_need", "unknown",
)  # fmt: skip
STATES = ("none", "offer", "booked", "followup", "handoff")
NEEDS = tuple(lexicon.labels("needs", "en"))  # the five needs, in the order they are offered
SERVICES = tuple(lexicon.labels("services", "en"))  # special services' codes
# Why a "no thanks", as the conversation records it (a key of the corpus's "because").
_BECAUSE = {"serviced_elsewhere": "serviced_elsewhere", "vehicle_sold": "vehicle_sold",
            "span_later": "later"}  # fmt: skip


@dataclass(frozen=True)
class Intent:
    """One reply, understood.  Fields other than ``kind`` are filled whenever the text has them,
    so a reply that picks option 2 *and* gives the mileage loses neither."""

    kind: str
    text: str = ""
    option: int | None = None
    rating: int | None = None
    preference: SlotPreference | None = None
    mileage_km: int | None = None
    fault: str | None = None
    need: str | None = None
    technician: str | None = None  # a name; "" when the customer wants no one in particular
    services: tuple[str, ...] = ()  # codes of SERVICES
    because: str | None = None  # why a "no thanks": later, serviced_elsewhere, vehicle_sold
    topic: str | None = None  # what a question asks: price, duration, hours, address
    rule: str = ""  # the rule of RULES that decided, or "model"
    slots: Slots | None = None
    guess: model.Guess | None = None  # when the model decided: how sure, and why
    overruled: str = ""  # the rule the model overruled ("" when no rule held)
    concern: bool = False  # reads as a complaint too: a person gets it beside ``kind``
    only_channel: str | None = None  # "sms" / "voice": the one way of contact they keep to


Test = Callable[[Slots, str, int], bool]


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    test: Test  # (slots, state, options offered) → whether the rule holds
    why: str


def _opt_out_keyword(s: Slots, state: str, n: int) -> bool:
    """STOP, 退订, T alone; STOP or 退订 with only a please or a thanks around it ("stop 谢谢";
    "cancel please" is about the appointment)."""
    plain = normal.keyword(normal.strip(s.norm, "politeness", "fillers"))
    if s.keyword in _keywords("opt_out_keywords") or plain in _keywords("opt_out_polite"):
        return True
    # "Reply STOP? Fine. STOP. Happy now?": a keyword that cannot mean anything else, said as
    # a sentence of its own ("cancel" or "t" in a longer message may mean something else)
    polite = _keywords("opt_out_polite")
    return any(normal.keyword(part) in polite for part in normal.sentences(s.norm))


@functools.cache
def _keywords(name: str) -> frozenset[str]:
    return frozenset(w.replace(" ", "") for w in lexicon.words(name))


def _option(s: Slots, state: str, n: int) -> bool:
    if state != "offer" or s.has("refusal"):
        return False
    value = reading.option_value(s, n)
    return value is not None and 1 <= value <= max(n, 1)


def _time_with_no_need(s: Slots) -> bool:
    return s.preference is not None and not s.has("book") and s.need is None


RULES: tuple[Rule, ...] = (
    Rule("opt_out_keyword", "opt_out", _opt_out_keyword, "a carrier keyword: the carrier blocks"),
    Rule("opt_out_sentence", "opt_out",
         lambda s, st, n: s.has("opt_out_sentences") and s.only_channel is None
         and not (s.has("opt_out_past") and s.has("opt_in_sentences")),
         "asked in words never to be messaged again: opt-out outranks everything (calls "
         "refused and texts asked for, or the reverse, is a way of contact kept to)"),
    Rule("opt_in", "opt_in", lambda s, st, n: s.keyword in _keywords("opt_in_keywords")
         or s.has("opt_in_sentences"), "START / UNSTOP, or asked to get messages again"),
    Rule("help_keyword", "help", lambda s, st, n: s.keyword in _keywords("help_keywords"), "HELP"),
    Rule("help_sentence", "help",
         lambda s, st, n: s.has("help_sentences") and not s.has("wrong_number"),
         "asked how these messages work (\u201c这个短信怎么回复\u201d, "
         "\u201cwhat is this number?\u201d)"),
    Rule("empty", "unknown", lambda s, st, n: not s.keyword and not s.services and s.rating is None,
         "nothing but punctuation or pictures"),
    Rule("complaint", "complaint", lambda s, st, n: s.has("complaint"),
         "an angry or complaining word: a person, before any booking"),
    Rule("reproach", "complaint",
         lambda s, st, n: s.has("reproach")
         and not (st in ("none", "handoff") and s.has("other_need")),
         "a reproach about past work: a person, before any booking (a need named with it, "
         "an invoice not sent, a refund, is that need: a person too)"),
    Rule("wrong_number", "wrong_number", lambda s, st, n: s.has("wrong_number"),
         "the number is not the customer's (\u201c打错了吧\u201d outranks a callback asked about)"),
    Rule("no_person", "decline",
         lambda s, st, n: s.has("no_person") and not (s.has("question") or s.topic),
         "no call needed after all (\u201c不用回电了\u201d): a no, not a request for a person "
         "(with a question, the question: \u201c多少钱 不用打电话给我\u201d)"),
    Rule("person", "call_me",
         lambda s, st, n: (s.has("person") or s.has("call_chase")) and s.only_channel != "sms",
         "asked for a person (or for the call promised); \u201c别打电话，短信就行\u201d asks for "
         "no call"),
    Rule("technician", "technician", lambda s, st, n: s.technician is not None,
         "a designated technician (or none)"),
    Rule("cancel_words", "cancel_appointment", lambda s, st, n: s.has("cancel_appointment"),
         "cancelling an appointment, in words"),
    Rule("booked_not_coming", "cancel_appointment",
         lambda s, st, n: st == "booked" and s.has("not_coming") and not s.has("reschedule")
         and not (s.preference is not None and (s.has("a_not_a") or s.has("question"))),
         "a booked customer who says they are not coming cancels the appointment (unless they "
         "ask to move it: \u201c明天来不了了，改到下周\u201d)"),
    Rule("reminder_yes", "confirm", lambda s, st, n: st == "booked" and s.number == 1,
         "a booked customer's 1 (the reminder asks 1 to confirm): they are coming"),
    Rule("reminder_change", "reschedule", lambda s, st, n: st == "booked" and s.number == 2,
         "a booked customer's 2 (the reminder asks 2 to change): another time"),
    Rule("offer_new_time", "propose_time",
         lambda s, st, n: st == "offer" and s.has("reschedule") and s.preference is not None,
         "none of the offered times, and another named: nothing is booked yet to move"),
    Rule("option_refused", "reschedule",
         lambda s, st, n: st == "offer" and s.option is not None and s.has("refusal"),
         "an offered option named as not working (“第二个不行”): another time"),
    Rule("reschedule", "reschedule", lambda s, st, n: s.has("reschedule") and s.option is None,
         "another time for the appointment"),
    Rule("booked_late", "running_late", lambda s, st, n: st == "booked" and s.has("running_late"),
         "a booked customer running late"),
    Rule("hours_question", "question",
         lambda s, st, n: s.topic == "hours" and s.has("question")
         and not (s.preference is not None and s.has("conditional")),
         "when the workshop is open (\u201c开门吗？开的话周日上午\u201d asks for that time)"),
    Rule("add_work", "add_work",
         lambda s, st, n: st == "booked" and (
             (s.has("add_work") and bool(s.need or s.has("book") or s.has("parts")))
             or (s.has("parts") and s.has("work_verbs"))),
         "more work on the booked visit (a courtesy car is no work: a special service)"),
    Rule("included_question", "question",
         lambda s, st, n: bool(s.services) and s.has("included") and s.has("question")
         and not s.has("want"),
         "asked whether a special service comes with the visit (\u201c有代步车吗\u201d)"),
    Rule("services", "special_service",
         lambda s, st, n: bool(s.services) and (s.services_alone or st in ("booked", "handoff")
         or s.has("want")), "special services asked for"),
    Rule("small_talk", "unknown",
         lambda s, st, n: s.has("small_talk") and s.need is None and not s.has("book")
         and not s.symptoms and not s.services and not s.has("reschedule"),
         "a message meant for someone else, or small talk (\u201c今天天气不错\u201d): the day it "
         "names asks for nothing"),
    Rule("booked_new_time", "reschedule",
         lambda s, st, n: st == "booked" and _time_with_no_need(s) and not s.only_confirm
         and not _confirming(s), "a booked customer naming another time"),
    Rule("option", "choose_option", _option, "an offered option, by its number or place"),
    Rule("rating", "rating", lambda s, st, n: st == "followup" and s.rating is not None,
         "a rating after a visit; a remark with it stays a rating"),
    Rule("other_need", "other_need",
         lambda s, st, n: st in ("none", "handoff", "followup") and s.has("other_need")
         and not (s.need and s.has("book")),
         "a first message about something outside the five booking needs: a person"),
    Rule("fault", "fault",
         lambda s, st, n: bool(s.symptoms) and _no_day(s) and not s.has("book"),
         "a fault described (a part of the day alone says when it happens)"),
    Rule("because", "decline",
         lambda s, st, n: s.because is not None
         and (s.has("decline") or not s.has("book"))
         and not (s.because == "span_later" and s.preference is not None
                  and s.preference.on is not None and not s.has("decline")),
         "a no with a reason the dealership keeps"),
    Rule("mileage", "mileage",
         lambda s, st, n: s.mileage_km is not None and s.preference is None and s.need is None,
         "the mileage"),
    Rule("decline", "decline",
         lambda s, st, n: s.has("decline") and not (s.preference and s.only_confirm)
         and not (s.need and s.has("book")), "no thanks"),
    Rule("need_question", "question",
         lambda s, st, n: s.need not in (None, "repair_question") and s.has("question")
         and not s.has("book") and s.preference is None and st != "followup",
         "a question about a need: answer, then book"),
    Rule("topic_question", "question",
         lambda s, st, n: s.topic in ("price", "duration") and s.has("question")
         and not s.has("book") and s.preference is None and st != "followup",
         "what the work costs or how long it takes (\u201cbrake pads 多少钱\u201d): "
         "an answer first"),
    Rule("booked_confirm", "confirm",
         lambda s, st, n: st == "booked" and s.need is None and (
             ((s.only_confirm or _confirming(s)) and (s.has("coming") or not s.only_thanks))
             or (s.only_thanks and s.has("acknowledge"))),
         "a booked customer says they are coming (or acknowledges the reminder: 收到, got it)"),
    Rule("booked_question", "question",
         lambda s, st, n: st == "booked" and s.has("question"),
         "a booked customer's question (\u201c明天要带保养手册吗\u201d): an answer, not a booking"),
    Rule("due_question", "question",
         lambda s, st, n: s.has("due_question") and not s.has("book"),
         "when the next service is due (\u201c下次保养是啥时候？\u201d): a question, no booking"),
    Rule("call_time", "call_me",
         lambda s, st, n: st == "handoff" and s.preference is not None and s.need is None
         and not s.has("book"),
         "a time said while waiting for the call (\u201cI'm free after 4\u201d): when to call"),
    Rule("book", "book_request",
         lambda s, st, n: s.need is not None or (s.has("book") and s.preference is None
         and not (st == "offer" and s.only_confirm)),
         "a booking, with or without a need (while times are offered, "
         "\u201c你们安排吧\u201d is a yes)"),
    Rule("late", "running_late", lambda s, st, n: s.has("running_late"), "running late"),
    Rule("time", "propose_time", lambda s, st, n: s.preference is not None, "a day or a time"),
    Rule("handoff_ack", "thanks",
         lambda s, st, n: st == "handoff" and ((s.has("waiting") and not s.has("question")) or (
             (s.only_confirm or s.has("acknowledge")) and (s.only_thanks or s.only_confirm))),
         "an OK to \u201can advisor will call you\u201d: nothing to answer"),
    Rule("thanks", "thanks",
         lambda s, st, n: s.only_thanks and not (st == "offer" and s.only_confirm),
         "a thank-you needs no answer (while slots are offered, 'sure, thanks' is a yes)"),
    Rule("confirm", "confirm", lambda s, st, n: s.only_confirm and st != "none", "yes"),
    Rule("greeting", "unknown", lambda s, st, n: s.only_greeting, "a greeting, nothing to act on"),
    Rule("question", "question", lambda s, st, n: s.has("question") or s.topic is not None,
         "a question"),
    Rule("gratitude", "thanks", lambda s, st, n: s.has("gratitude") and s.preference is None,
         "a thank-you with a remark that asks for nothing (\u201c上次的事谢谢你们了\u201d)"),
)  # fmt: skip


def _no_day(s: Slots) -> bool:
    p = s.preference
    return p is None or (p.on is None and p.at is None and not p.earliest)


def _confirming(s: Slots) -> bool:
    """Yes-words with a day, a time or "on time" ("收到，明天准时到", "see you Thursday")."""
    yes = s.has("coming") or normal.has(s.norm, "confirm")
    return yes and not (
        s.has("reschedule") or s.has("decline") or s.has("question") or "refusal" in s.matched
    )


def _pointed(s: Slots, offered: Sequence[datetime], now_local: datetime) -> Slots:
    """ "周四早上那个，不过我十点要打卡": the clause that points at an offered time picks it; a
    time said in another clause (a constraint, not a choice) is no part of the pick."""
    if s.option is not None or not normal.has(s.norm, "option_pointer"):
        return s
    for clause in when.clauses(s.norm):
        if clause != s.norm and normal.has(clause, "option_pointer"):
            picked = reading.refer(reading.read(clause, now_local), offered)
            if picked.option is not None:
                return dataclasses.replace(s, option=picked.option, number=None)
    return s


def decide(s: Slots, state: str, options: int = 0) -> Rule | None:
    """The first rule of :data:`RULES` that holds, or None (``unknown``)."""
    return next((r for r in RULES if r.test(s, state, options)), None)


def understand(
    text: str,
    *,
    now_local: datetime,
    options: int = 0,
    confirming: bool = False,
    state: str | None = None,
    offered: Sequence[datetime] = (),
    booked_on: date | None = None,
) -> Intent:
    """Understand one reply.

    ``state`` is the conversation's state (:data:`STATES`); without it, "offer" when options
    are on offer, else "none".  ``options`` is how many numbered choices the customer was last
    offered; ``confirming`` says the last message asked a yes/no question, so "1" means yes.
    ``offered`` are the starts of the slots on offer (local time), so that "周四上午那个" is
    the option it names; ``booked_on`` is the day of the visit a booked customer has, so that
    naming it ("明天能换成张敏顾问吗") asks for no other time.
    """
    state = state or ("offer" if options else "none")
    s = reading.read(text, now_local)
    if state == "offer":
        s = _pointed(reading.refer(s, offered), offered, now_local)
    if state == "booked" and booked_on is not None:
        s = reading.visit_day(s, booked_on)
    rule = decide(s, state, options)
    kind = rule.kind if rule else "unknown"
    guess = trust.guess(s, state, rule.name if rule else None, rule.kind if rule else None)
    if guess is not None and guess.kind == "choose_option" and state == "offer":
        s = reading.refer(s, offered, picking=True)  # "Thursday midday, thanks": that one
    if guess is not None and guess.kind != kind and trust.fits(guess.kind, s, options, state):
        kind = guess.kind
    else:
        guess = None
    if (
        kind == "choose_option"
        and confirming
        and options <= 1
        and reading.option_value(s, options) == 1
    ):
        kind = "confirm"
    if kind == "unknown" and confirming and s.number == 1:
        kind = "confirm"
    decided = "model" if guess else rule.name if rule else "none"
    concern = trust.concern(s, state, kind)
    if concern and kind in trust.ONLY_CONCERN:
        kind, concern, decided = "complaint", False, "concern"  # nothing else is asked
    fault = text.strip() if s.symptoms else None
    return Intent(
        kind=kind,
        text=text,
        option=reading.option_value(s, options) if kind == "choose_option" else None,
        rating=s.rating if kind == "rating" else None,
        # "the 3rd one": an option, not the 3rd of the month
        preference=None if kind == "choose_option" else s.preference,
        mileage_km=s.mileage_km,
        fault=fault,
        need=s.need or ("repair" if kind == "fault" else None)
        if kind not in ("special_service",)
        else ("detailing" if "car_wash" in s.services else None),
        technician=s.technician if kind == "technician" else None,
        services=s.services,
        because=_BECAUSE.get(s.because or "") if kind == "decline" else None,
        topic=s.topic,
        rule=decided,
        slots=s,
        guess=guess,
        overruled=rule.name if guess and rule else "",
        concern=concern,
        only_channel=s.only_channel if kind not in ("opt_out", "wrong_number") else None,
    )
