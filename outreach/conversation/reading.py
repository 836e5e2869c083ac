"""The second step of understanding a reply: every slot it carries, read from the lexicon.

:func:`read` never decides what the reply means; it lists what is in it (an option number, a
rating, a day and time, a span, the mileage, services, a technician, symptoms, the topic of a
question, and which word lists matched).  :mod:`understand` decides from these slots and the
conversation's state.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from outreach import lexicon
from outreach.conversation import normal
from outreach.conversation.numerals import arabic_wan, cn_to_int
from outreach.conversation.when import parse_when, unrefused
from outreach.preferences import SlotPreference

# The word lists whose presence is a slot of its own (a flag on :class:`Slots`).
FLAGS = (
    "opt_out_sentences", "complaint", "reproach", "person", "cancel_appointment", "reschedule",
    "decline", "running_late", "wrong_number", "book", "add_work", "earlier", "span_later",
    "other_need", "question", "a_not_a", "refusal", "opt_in_sentences", "want", "coming",
    "not_coming", "no_person", "acknowledge", "help_sentences", "parts", "work_verbs",
    "opt_out_past", "included", "gratitude", "call_chase", "waiting", "conditional",
    "due_question", "small_talk",
)  # fmt: skip
# Lists whose words a denial takes back ("不是投诉，就是想问…", "not complaining, just curious";
# a call too, "不用打电话给我"; special services too: "don't need a courtesy car").
_DENIABLE = frozenset({"complaint", "reproach", "person", "decline"})
# Why a "no thanks": the lists that name a reason, in the order they are tried.
BECAUSE = ("serviced_elsewhere", "vehicle_sold", "span_later")
TOPICS = ("price", "duration", "hours", "address")


@dataclass(frozen=True)
class Slots:
    """What one reply carries.  ``flags`` names the word lists that matched."""

    norm: str
    keyword: str
    flags: frozenset[str] = frozenset()
    option: int | None = None  # an option named in so many words ("第二个", "option two")
    number: int | None = None  # the reply is a bare number among fillers ("行吧，那就2")
    rating: int | None = None  # "给五星", "solid 4 out of 5", a lone 1..5
    preference: SlotPreference | None = None
    mileage_km: int | None = None
    services: tuple[str, ...] = ()
    services_alone: bool = False  # the reply asks for the services and nothing else
    technician: str | None = None  # "" for "no one in particular"
    symptoms: tuple[str, ...] = ()
    need: str | None = None
    topic: str | None = None
    because: str | None = None
    only_confirm: bool = False  # nothing but yes-words, fillers and politeness
    only_thanks: bool = False  # nothing but thanks, fillers and politeness
    only_greeting: bool = False  # nothing but fillers and politeness ("在吗", "hello?")
    only_channel: str | None = None  # "sms": calls refused, texts asked for; "voice": the reverse
    matched: dict[str, str] = field(default_factory=dict)  # list → the words it matched

    def has(self, flag: str) -> bool:
        return flag in self.flags

    def as_json(self) -> dict[str, object]:
        """The slots as JSON values (``outreach understand`` prints them)."""
        pref = self.preference
        return {
            "flags": sorted(self.flags),
            "option": self.option,
            "number": self.number,
            "rating": self.rating,
            "preference": {k: str(v) for k, v in vars(pref).items() if v not in (None, False)}
            if pref
            else None,
            "mileage_km": self.mileage_km,
            "services": list(self.services),
            "services_alone": self.services_alone,
            "technician": self.technician,
            "symptoms": list(self.symptoms),
            "need": self.need,
            "topic": self.topic,
            "because": self.because,
            "only_confirm": self.only_confirm,
            "only_thanks": self.only_thanks,
            "only_greeting": self.only_greeting,
            "only_channel": self.only_channel,
            "matched": self.matched,
        }


def read(text: str, now_local: datetime) -> Slots:
    """Every slot of ``text`` (the customer's words, as they came)."""
    norm = normal.normalise(text)
    matched = {}
    denied = lexicon.pattern("denied").sub(" ", norm)  # "不是投诉": no grievance said
    for name in FLAGS:
        if m := lexicon.pattern(name).search(denied if name in _DENIABLE else norm):
            matched[name] = m[0]
    flags = set(matched)
    if "refusal" in flags and _refusal_is_a_question(norm):
        flags.discard("refusal")  # "明天有没有空", "能不能改": a question, not a no
    preference = parse_when(norm, now_local)
    option = _option(norm)
    kept = unrefused(norm) if "refusal" in flags else ""
    # "第一个不行，第三个可以", "No to today, the 8.30 tomorrow one": one ruled out, one picked;
    # the pick is what the clauses that do not say no name.
    picked = _option(kept) if kept else None
    asked = parse_when(kept, now_local) if kept and picked is None else None
    if picked is not None or asked is not None:
        option = picked
        flags.discard("refusal")
        if asked is not None and (asked.on or asked.weekday is not None or asked.not_before):
            # "明天 8:30 不行了，改到周五吧": the day of the clause kept ("明天上午不行，下午
            # 可以" names no day of its own: tomorrow afternoon, as the whole reply reads)
            preference = asked
    if "earlier" in flags and (
        preference is None or (preference.on, preference.at) == (None, None)
    ):
        preference = SlotPreference(earliest=True)  # "能早点吗": sooner, not "in the morning"
    symptoms = tuple(m[0] for m in lexicon.pattern("symptoms").finditer(norm))
    on = preference.on if preference is not None else None
    past = on is not None and on <= now_local.date()
    if symptoms and past and "book" not in flags:
        preference = None  # "engine light came on this morning": when it happened, not a booking
    services = tuple(  # "don't need a courtesy car": none asked for
        code for code, p in lexicon.grouped("service_words").items() if p.search(denied)
    )
    return Slots(
        norm=norm,
        keyword=normal.keyword(norm),
        flags=frozenset(flags),
        option=option,
        number=_bare_number(norm),
        rating=_rating(norm) or _stars(text),
        preference=preference,
        mileage_km=_mileage(norm),
        services=services,
        services_alone=bool(services) and _services_alone(norm),
        technician=_technician(norm),
        symptoms=symptoms,
        need=_need(norm),
        topic=next((t for t in TOPICS if normal.has(norm, f"topic_{t}")), None),
        because=next((b for b in BECAUSE if normal.has(norm, b)), None),
        only_confirm=_only(norm, "confirm"),
        only_thanks=_only(norm, "thanks"),
        only_greeting=normal.consists_of(norm, "fillers", "politeness"),
        only_channel=_only_channel(norm),
        matched=matched,
    )


def _only_channel(norm: str) -> str | None:
    """The one way of contact the customer keeps to: "sms" when calls are refused and texts
    asked for ("别打电话，短信联系就行"), "voice" for the reverse; None when both or neither
    are refused (both refused is an opt-out)."""
    calls, texts = normal.has(norm, "no_calls"), normal.has(norm, "no_texts")
    if calls and not texts and normal.has(norm, "texts_welcome"):
        return "sms"
    if texts and not calls and normal.has(norm, "calls_welcome"):
        return "voice"
    return None


def refer(s: Slots, offered: Sequence[datetime], *, picking: bool = False) -> Slots:
    """An offered time named by its day or time instead of its number ("周四上午那个", "the
    8:30 one", "the later one on Thursday"): the option it singles out, else ``s`` unchanged.
    ``offered`` are the starts of the slots on offer, in the dealership's time, in order;
    ``picking``: the reply is known to pick one, pointer or not.  A time to the minute that
    only one offered slot starts at is that slot ("Thursday noon, book it", "8:30 works").
    """
    p = s.preference
    named = s.option if s.option is not None else s.number
    if p is None or not p.names_a_time() or named in range(1, len(offered) + 1):
        return s  # "the 8:30 one": an 8 that is no option is part of the time
    if s.has("refusal") or s.has("reschedule"):
        return s  # "周四不行": the day named is the one that does not suit
    fitting = [i for i, start in enumerate(offered, start=1) if p.fits(start)]
    exact = p.at is not None and len(fitting) == 1  # "Thursday noon", "the 8:30 tomorrow"
    asked = s.has("book") and len(fitting) == 1  # "帮我约6月4号早上": book the one offered then
    if not (picking or exact or asked or normal.has(s.norm, "option_pointer")):
        return s  # "明天下午有空": a time asked for; "明天下午那个": the one offered then
    if len(fitting) > 1 and normal.has(s.norm, "option_later"):
        fitting = fitting[-1:]
    elif len(fitting) > 1 and normal.has(s.norm, "option_earlier"):
        fitting = fitting[:1]
    return replace(s, option=fitting[0], number=None) if len(fitting) == 1 else s


def visit_day(s: Slots, booked_on: date) -> Slots:
    """A booked customer naming the day of their visit and no time ("明天能换成张敏顾问吗",
    "Is Mike working tomorrow?") asks for no other time: the day is the visit's."""
    p = s.preference
    if p is None or s.has("reschedule") or p.at is not None or p.part_of_day is not None:
        return s
    same = p.on == booked_on or (p.on is None and p.weekday == booked_on.weekday())
    return replace(s, preference=None) if same and not p.earliest and not p.not_before else s


def _only(norm: str, name: str) -> bool:
    """Whether the reply says nothing but words of list ``name``, fillers and politeness, and
    at least one word of ``name`` ("嗯嗯好的" is a yes, "你好" is not)."""
    if name == "thanks":  # "see you then", "我会准时到": nothing to answer either
        found = any(normal.has(norm, n) for n in ("gratitude", "thanks", "coming", "waiting"))
        return found and normal.consists_of(
            norm, "gratitude", "thanks", "coming", "waiting", "fillers", "politeness"
        )
    rest = normal.strip(norm, "politeness")
    return normal.has(rest, name) and normal.consists_of(rest, name, "fillers", "politeness")


def _refusal_is_a_question(norm: str) -> bool:
    """A negation that only sits inside an A-not-A question ("可不可以", "有没有空")."""
    return not lexicon.pattern("refusal").search(lexicon.pattern("a_not_a").sub(" ", norm))


@functools.cache
def _number_source() -> str:
    words = sorted(lexicon.number_words(), key=len, reverse=True)
    return "[1-9]|" + "|".join(re.escape(w) for w in words)


def _value(word: str) -> int | None:
    if word.isdecimal():
        return int(word)
    return lexicon.number_words().get(word)


@functools.cache
def _frames(name: str) -> re.Pattern[str]:
    source = "|".join(f"(?:{w.replace('(N)', '(' + _number_source() + ')')})"
                      for w in lexicon.words(name))  # fmt: skip
    return re.compile(source)


def _first_group(m: re.Match[str]) -> int | None:
    word = next((g for g in m.groups() if g), None)
    return _value(word) if word else None


LAST = -1  # "the last one": which number that is depends on the offer


def _option(norm: str) -> int | None:
    """An option named in so many words: "第叁个", "2号选项", "option two", "the 3rd one",
    "the last one" (:data:`LAST`), "the middle one", "the earliest one"."""
    if m := _frames("option_frames").search(norm):
        return _first_group(m)
    if normal.has(norm, "option_last"):
        return LAST
    if normal.has(norm, "option_first"):
        return 1
    if normal.has(norm, "option_middle"):
        return 2
    return None


def _bare_number(norm: str) -> int | None:
    """The first number of a reply that is numbers and fillers only ("1 thx", "2或者3都可以")."""
    whole = _numbers_only(norm)
    if whole is not None:
        return whole
    # "3 please, and my mileage is around 52k": a first clause that is only a number
    # (a full stop ends a clause too, and a space before Chinese: "1吧 刹车片也一起换了")
    first = re.split(r"[,，。;；!！]|\.\s|\s[-–—]\s|\s+(?=[\u4e00-\u9fff])", norm, maxsplit=1)[0]
    return _numbers_only(first) if first != norm else None


def _numbers_only(text: str) -> int | None:
    rest = normal.strip(text, "fillers", "politeness", "option_words", "coming", "thanks")
    heard = lexicon.table("homophones")
    if rest in heard:
        return int(heard[rest])  # "won", "to": a number as speech recognition wrote it
    tokens = re.findall(r"[a-z0-9]+|\S", rest)
    tokens = [t for t in tokens if re.match(r"\w", t)]
    if tokens and all(_value(t) is not None for t in tokens):
        return _value(tokens[0])
    return None


_LONE_DIGIT = re.compile(
    r"(?<![\d.:/])([1-5])(?!\.\d|[\d:/]|\s*(?:号|点|月|日|km|公里|am|pm|天|周|个月))"
)


def _stars(text: str) -> int | None:
    """ "⭐⭐⭐⭐": a rating drawn in stars (the normalised text has no pictures)."""
    count = sum(text.count(star) for star in "⭐★🌟")
    return count if 1 <= count <= 5 else None


def _rating(norm: str) -> int | None:
    """A rating out of 5: in a frame ("给五星", "4 out of 5"), a lone digit, or a lone word."""
    if m := _frames("rating_tens").search(norm):  # "10/10", "8 out of 10": out of 5
        value = _first_group(m)
        if value is not None and 0 <= value <= 10:
            return max(1, int(value / 2 + 0.5))
    if m := _frames("rating_frames").search(norm):
        value = _first_group(m)
        if value is not None and 1 <= value <= 5:
            return value
    digits = _LONE_DIGIT.findall(norm)
    if len(digits) == 1:  # "不是很满意但也不差，3": the number said, not the words around it
        return int(digits[0])
    for word, value in lexicon.table("ratings").items():
        if word in norm:
            return int(value)
    number = _bare_number(norm)
    if number is None:
        words = [w for w in re.findall(r"[a-z]+", norm) if w in lexicon.number_words()]
        number = _value(words[0]) if len(words) == 1 and not digits else None
    return number if number is not None and 1 <= number <= 5 else None


@functools.cache
def _mileage_patterns() -> tuple[re.Pattern[str], ...]:
    """The distance on the clock: a number with its unit, or after the words that introduce
    one (``mileage_units``, ``mileage_miles``, ``mileage_context`` in the lexicon)."""
    km, miles, context = (
        "|".join(lexicon.words(name))
        for name in ("mileage_units", "mileage_miles", "mileage_context")
    )
    return (
        re.compile(rf"(\d{{1,3}}(?:\.\d)?k)\s*(?:{km}|{miles})"),
        re.compile(rf"(\d{{3,7}})\s*(?:{km}|k\b)"),
        re.compile(rf"(?:{context})\D{{0,14}}?(\d{{3,7}}|\d{{1,3}}(?:\.\d)?k\b)"),
        re.compile(rf"(\d{{3,7}})\s*(?:{miles})"),
    )


_THOUSAND = re.compile(r"(\d{1,3}(?:\.\d)?)\s*(?:thousand|grand)\b")
_CN_MILEAGE = re.compile(r"([一二两三四五六七八九十百千万]+)\s*(?:公里|km)?")


def _mileage(norm: str) -> int | None:
    wan = arabic_wan(norm)
    text = _THOUSAND.sub(r"\1k", wan.replace(",", ""))
    for pattern in _mileage_patterns():
        if m := pattern.search(text):
            value = m[1]
            km = round(float(value[:-1]) * 1000) if value.endswith("k") else int(value)
            miles = normal.has(text[m.end(1) :].lstrip()[:8], "mileage_miles")
            return round(km * 1.609344) if miles else km
    if re.fullmatch(r"\W*(\d{4,7})\W*", text) and wan != norm:
        return int(re.sub(r"\D", "", text))  # "4万2", "6w": a distance said in tens of thousands
    if "万" in text or normal.has(text, "mileage_units") or normal.has(text, "mileage_context"):
        for m in _CN_MILEAGE.finditer(text):
            value = cn_to_int(m[1])
            if value is not None and value >= 100:
                return value
    return None


def _need(norm: str) -> str | None:
    """The first need whose words the reply says, special services' words left out ("顺便帮我
    洗个车" asks for the car wash, not for detailing work)."""
    for pattern in lexicon.grouped("service_words").values():
        norm = pattern.sub(" ", norm)
    for need, pattern in lexicon.grouped("need_words").items():
        if pattern.search(norm):
            # "I'd like to ask about a repair" wants an answer before a slot.
            asking = normal.has(norm, "question")
            return "repair_question" if need == "repair" and asking else need
    return None


def _services_alone(norm: str) -> bool:
    """Whether the reply asks for special services and nothing else ("要洗车和代步车")."""
    rest = norm
    for pattern in lexicon.grouped("service_words").values():
        rest = pattern.sub(" ", rest)
    return normal.consists_of(rest, "service_frame", "fillers", "politeness") or not rest.strip(
        " ,.!?，。！？、"
    )


def _technician(norm: str) -> str | None:
    """A designated technician's name, "" for "no one in particular", None when not said."""
    if normal.has(norm, "technician_none"):
        return ""
    if m := lexicon.pattern("technician_same").search(norm):
        return m[0]  # "上次那位师傅", "the same technician": the advisor knows who
    if m := lexicon.pattern("technician_name").search(norm):
        name = next(g for g in m.groups() if g)
        if name.isascii():
            title, _, rest = re.sub(r"\.", " ", name).partition(" ")
            return f"{title.capitalize()} {rest.strip().capitalize()}"
        return name
    return None


def option_value(s: Slots, options: int) -> int | None:
    """The option the reply names; "the last one" is the last of those offered."""
    value = s.option if s.option is not None else s.number
    return options if value == LAST else value
