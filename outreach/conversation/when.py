"""Read a day and time out of a customer's reply, in Chinese or English, relative to now.

``parse_when("周六上午可以", now_local)`` → ``SlotPreference(on=<coming Saturday>,
part_of_day="morning")``.  Everything is in the dealership's local time; the caller passes
``now_local`` already converted.  Rules worth knowing:

- A bare hour with no am/pm or 上午/下午 from 1 to 7 means the afternoon (the workshop is
  closed at 3 am): "3点半" is 15:30, "10点" is 10:00.
- "下周二" / "next Tuesday" is the Tuesday of next week (weeks start on Monday); a bare
  weekday ("周六", "Sat") is the next such day, today included.
- "11月30日", "12/3" (month/day) and "30号" roll into the next year / month once passed.
- A clause saying a time does *not* work ("明天不行", "not Tuesday") turns into
  ``not_before`` the day after, unless another clause names a time that does work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from outreach import lexicon
from outreach.conversation.normal import normalise
from outreach.conversation.numerals import SMALL, small
from outreach.preferences import SlotPreference

# Weekdays, months, parts of the day and refusals are the lexicon's (outreach/lexicon).
_WEEKDAY_CN = {str(k): int(v) for k, v in lexicon.data("zh-CN")["weekdays"].items()}
_WEEKDAY_EN = {str(k): int(v) for k, v in lexicon.data("en")["weekdays"].items()}
_MONTHS_EN = {str(k): int(v) for k, v in lexicon.table("months").items()}
# Clause breaks (not the comma of a thousands separator: "at 9,950 km" is no 9 o'clock).
_CLAUSES = re.compile(r"(?<!\d),|,(?!\d{3}(?!\d))|[，。;；!！?？]|\bbut\b|但是|不过")
_WEEKS_AHEAD = [(re.compile(p), int(n)) for p, n in lexicon.table("weeks_ahead").items()]
_PARTS = [(lexicon.pattern(f"part_{part}"), part) for part in ("morning", "afternoon", "evening")]


def clauses(text: str) -> list[str]:
    """The clauses of a normalised reply (split at commas, full stops, "but", 不过 …)."""
    return [c for c in _CLAUSES.split(text) if c.strip()]


def unrefused(text: str) -> str:
    """The clauses of a normalised reply that do not say no ("不要今天的，明天中午那个":
    "明天中午那个"); "" when every clause does."""
    return "，".join(c for c in clauses(text) if not _refused(c))


def _refused(clause: str) -> bool:
    """A clause saying a time does not work; an A-not-A question ("明天有没有空") does not."""
    questions_removed = lexicon.pattern("a_not_a").sub(" ", clause)
    return lexicon.pattern("refusal").search(questions_removed) is not None


_TOMORROW_EN = r"tomorrow|tmrw?|tmro"
_TODAY_EN = r"today"
_WD_CN = re.compile(r"(下下|下|这|本|这个|下个)?(?:周|星期|礼拜)([一二三四五六日天七1-7])")
_WD_EN = re.compile(
    r"\b(next|this|coming)?\s*(mon|tue|wed|thu|fri|sat|sun)"
    r"(?:day|s|sday|nesday|rsday|urday|r|rs)?\b\.?"
)
_ISO = re.compile(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})[日号]?")
_CN_DATE = re.compile(SMALL + r"\s*月\s*" + r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号]?")
_SLASH = re.compile(r"(?<![\d:])(\d{1,2})/(\d{1,2})(?![\d/])")
# "下个月3号", "下月5号", "本月20号", "next month on the 5th": a day of this or next month.
_MONTH_DAY = re.compile(
    r"(下个?月|本月|这个?月|next month|this month)\D{0,8}?(\d{1,2}|[一二三四五六七八九十]{1,3})"
    r"\s*(?:号|日|st|nd|rd|th)"
)
_DAY_ONLY = re.compile(r"(?<![\d月/])(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[号日](?!本)")
_EN_MD = re.compile(r"\b([a-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b")
_EN_DM = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3})[a-z]*\b")
_EN_THE = re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b")

_CN_TIME = re.compile(
    SMALL
    + r"\s*[点點时](?:\s*(半|一刻|三刻|整|"
    + r"(?:\d{1,2}|[零一二三四五六七八九十]{1,3})"
    + r")\s*分?)?"
)
_COLON = re.compile(r"(?<!\d)(\d{1,2})[:：.](\d{2})(?!\d)\s*(am|pm|a\.m\.|p\.m\.)?")
_EN_TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)")
_AT = re.compile(
    r"\b(?:at|around|about|after|by)\s+(\d{1,2})(?::(\d{2}))?\b(?!\s*(?:km|号|月)|,\d{3})"
)
# An hour said right after a day (a weekday, tomorrow, today), with no "at": "tmrw 830",
# "Thursday 12", "fri 9.15".
_DAY_HOUR = re.compile(
    rf"(?:{_WD_EN.pattern}|\b(?:{_TOMORROW_EN}|{_TODAY_EN}))"
    r"\s+(?P<hour>\d{1,2})(?:[:.]?(?P<minute>\d{2}))?\b(?!\s*(?:km|k\b|st\b|nd\b|rd\b|th\b|/|%))"
)
_NOON = lexicon.pattern("noon")
# Times in English words, as typed or as speech recognition writes them: "ten am", "at ten",
# "half past two", "quarter to nine", "nine thirty", "ten o'clock".
_EN_WORDS = "one two three four five six seven eight nine ten eleven twelve"
_EN_HOURS = {word: n for n, word in enumerate(_EN_WORDS.split(" "), 1)}
_H = "(" + "|".join(_EN_HOURS) + ")"
_EN_WORD_TIMES = [
    (re.compile(rf"\bhalf past {_H}\b"), lambda m: f"{_EN_HOURS[m[1]]}:30"),
    (re.compile(rf"\bquarter past {_H}\b"), lambda m: f"{_EN_HOURS[m[1]]}:15"),
    (re.compile(rf"\bquarter to {_H}\b"), lambda m: f"{_EN_HOURS[m[1]] - 1 or 12}:45"),
    (
        re.compile(rf"\b{_H}[ -](thirty|fifteen|forty[ -]five)\b"),
        lambda m: f"{_EN_HOURS[m[1]]}:{ {'thirty': 30, 'fifteen': 15}.get(m[2], 45) }",
    ),
    (re.compile(rf"\b{_H} ?o'? ?clock"), lambda m: f"at {_EN_HOURS[m[1]]}"),
    (re.compile(rf"\b{_H}(?= ?(?:am|pm|a\.m\.|p\.m\.))"), lambda m: str(_EN_HOURS[m[1]])),
    (re.compile(rf"\b(at|around|about|after|by) {_H}\b"), lambda m: f"{m[1]} {_EN_HOURS[m[2]]}"),
]


def _english_word_times(text: str) -> str:
    for pattern, digits in _EN_WORD_TIMES:
        text = pattern.sub(digits, text)
    return re.sub(r"\b(\d{1,2}) ?o'? ?clock", r"at \1", text)


@dataclass
class _Found:
    on: date | None = None
    weekday: int | None = None
    part: str | None = None
    at: time | None = None
    not_before: date | None = None

    def empty(self) -> bool:
        return self.on is None and self.part is None and self.at is None


def parse_when(text: str, now_local: datetime) -> SlotPreference | None:
    """The day/time preference stated in ``text``, or None when it names none."""
    norm = _english_word_times(normalise(text))
    today = now_local.date()
    positive = _Found()
    refused: date | None = None
    refused_part_of: date | None = None  # "明天上午不行": only part of that day is refused
    for clause in clauses(norm):
        found = _parse_clause(clause, today)
        if found.empty() and found.not_before is None:
            continue
        if _refused(clause):
            refused = found.on or refused
            if found.on is not None and (found.part or found.at):
                refused_part_of = found.on
            continue
        _merge(positive, found)
    if positive.on is None and not positive.empty():
        # "明天上午不行，下午可以": the afternoon of that same day; "明天不行，下午可以": a
        # later day's afternoon.
        if refused_part_of is not None:
            positive.on = refused_part_of
        elif refused is not None and positive.not_before is None:
            positive.not_before = refused + timedelta(days=1)
    if positive.empty():
        if refused is not None:
            return SlotPreference(not_before=refused + timedelta(days=1))
        if positive.not_before is not None:
            return SlotPreference(not_before=positive.not_before)
        return None
    return SlotPreference(
        on=positive.on,
        part_of_day=positive.part,
        at=positive.at,
        not_before=positive.not_before,
    )


def _merge(into: _Found, found: _Found) -> None:
    for name in ("on", "part", "at", "not_before"):
        if getattr(into, name) is None:
            setattr(into, name, getattr(found, name))


def _parse_clause(clause: str, today: date) -> _Found:
    found = _Found()
    found.on = _date(clause, today)
    weeks = next((n for pattern, n in _WEEKS_AHEAD if pattern.search(clause)), None)
    if found.on is None and weeks is not None:
        found.not_before = today + timedelta(days=7 * weeks - today.weekday())
    for pattern, part in _PARTS:
        if pattern.search(clause):
            found.part = part
            break
    found.at = _clock(clause, found.part)
    if found.at is None and _NOON.search(clause):
        found.at = time(12, 0)
    return found


def _date(clause: str, today: date) -> date | None:
    relative = [
        (r"大后天", 3),
        (r"后天|day after tomorrow", 2),
        (rf"明天|明日|明早|明晚|明儿|{_TOMORROW_EN}", 1),
        (rf"今天|今日|今晚|今早|{_TODAY_EN}|tonight|this (?:morning|afternoon|evening)", 0),
    ]
    for pattern, days in relative:
        if re.search(pattern, clause):
            return today + timedelta(days=days)
    if m := _MONTH_DAY.search(clause):
        ahead = m[1] in ("下个月", "下月", "next month")
        year = today.year + (ahead and today.month == 12)
        return _safe_date(year, today.month % 12 + 1 if ahead else today.month, small(m[2]))
    if m := _ISO.search(clause):
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _CN_DATE.search(clause):
        month, day = small(m[1]), small(m[2])
        return _future_md(today, month, day)
    if m := _SLASH.search(clause):
        return _future_md(today, int(m[1]), int(m[2]))
    for m in _EN_MD.finditer(clause):
        if m[1] in _MONTHS_EN:
            return _future_md(today, _MONTHS_EN[m[1]], int(m[2]))
    for m in _EN_DM.finditer(clause):
        if m[2] in _MONTHS_EN:
            return _future_md(today, _MONTHS_EN[m[2]], int(m[1]))
    if m := _WD_CN.search(clause):
        wd = int(m[2]) - 1 if m[2].isdigit() else _WEEKDAY_CN[m[2]]
        return _weekday(today, wd, (m[1] or "").replace("个", ""))
    if m := _WD_EN.search(clause):
        return _weekday(today, _WEEKDAY_EN[m[2]], m[1] or "")
    if re.search(r"周末|weekend", clause):
        return _weekday(today, 5, "下" if "下" in clause or "next" in clause else "")
    if m := _DAY_ONLY.search(clause):
        return _future_md(today, today.month, small(m[1]), roll="month")
    if m := _EN_THE.search(clause):
        return _future_md(today, today.month, int(m[1]), roll="month")
    return None


def _weekday(today: date, wd: int, prefix: str) -> date:
    monday = today - timedelta(days=today.weekday())
    if prefix in ("下", "next"):
        return monday + timedelta(days=7 + wd)
    if prefix == "下下":
        return monday + timedelta(days=14 + wd)
    if prefix in ("这", "本", "this"):
        return monday + timedelta(days=wd)
    return today + timedelta(days=(wd - today.weekday()) % 7)


def _safe_date(year: int, month: int | None, day: int | None) -> date | None:
    if month is None or day is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _future_md(today: date, month: int | None, day: int | None, roll: str = "year") -> date | None:
    """The next date with that month and day (or that day of a month), today included."""
    found = _safe_date(today.year, month, day)
    if found is None or found >= today:
        return found
    if roll == "year":
        return _safe_date(today.year + 1, month, day)
    nxt = today.month % 12 + 1
    return _safe_date(today.year + (today.month == 12), nxt, day)


def _clock(clause: str, part: str | None) -> time | None:
    hour: int | None = None
    minute = 0
    meridiem: str | None = None
    if m := _COLON.search(clause):
        hour, minute, meridiem = int(m[1]), int(m[2]), m[3]
    elif m := _EN_TIME.search(clause):
        hour, minute, meridiem = int(m[1]), int(m[2] or 0), m[3]
    elif m := _cn_time(clause):
        hour = small(m[1])
        minute = _cn_minutes(m[2])
    elif m := _AT.search(clause):
        hour, minute = int(m[1]), int(m[2] or 0)
    elif m := _DAY_HOUR.search(clause):
        hour, minute = int(m["hour"]), int(m["minute"] or 0)
    if hour is None or hour > 24 or minute > 59:
        return None
    if meridiem:
        if meridiem.startswith("p") and hour < 12:
            hour += 12
        elif meridiem.startswith("a") and hour == 12:
            hour = 0
    elif (part in ("afternoon", "evening") and hour < 12) or (
        # 中午一点 is 13:00; a bare 3 o'clock is 15:00 (nobody books a workshop for 3 am).
        part is None and (1 <= hour <= 7 or (_NOON.search(clause) and hour <= 2))
    ):
        hour += 12
    if hour == 24:
        hour = 0
    return time(hour, minute)


def _cn_time(clause: str) -> re.Match[str] | None:
    for m in _CN_TIME.finditer(clause):
        if m.start() > 0 and clause[m.start() - 1] in "周期拜":  # 周四十二点: 四 is the day
            m = _CN_TIME.match(clause, m.start() + 1) or m
        # "快一点" / "早一点" mean "a bit sooner", not one o'clock.
        if m[1] == "一" and m.start() > 0 and clause[m.start() - 1] in "快早晚慢有差好":
            continue
        return m
    return None


def _cn_minutes(text: str | None) -> int:
    if not text or text == "整":
        return 0
    return {"半": 30, "一刻": 15, "三刻": 45}.get(text) or small(text) or 0
