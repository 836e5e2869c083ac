"""Jinja2 filters the scripts use to show times, dates, money, hours and kilometres.

Instants arrive as aware UTC datetimes (or ISO strings, as stored in JSON facts) and are
shown in the zone the template names; a naive datetime is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from outreach import lexicon
from outreach.scripts.sms import GSM7_BASIC

# Weekday and month names are the lexicon's (outreach/lexicon), like every word list.
_WEEKDAYS_ZH = "".join(lexicon.names("weekday_names", "zh-CN"))
_WEEKDAYS_EN = lexicon.names("weekday_names", "en")
_WEEKDAYS_EN_FULL = lexicon.names("weekday_names", "en", "full")
_MONTHS_EN_FULL = lexicon.names("month_names", "en", "full")
_MONTHS_EN = lexicon.names("month_names", "en")


def _zh(locale: str) -> bool:
    return locale.lower().startswith("zh")


def _instant(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"local_dt needs a datetime, got {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"local_dt refuses the naive datetime {value.isoformat()}: pass aware UTC")
    return value


def _day(value: date | datetime | str) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value


def clock(value: datetime, locale: str) -> str:
    """The time of day: ``上午9:30`` / ``9:30 am``."""
    h, m = value.hour, value.minute
    if _zh(locale):
        if h < 5:
            part = "凌晨"
        elif h < 12:
            part = "上午"
        elif h < 13:
            part = "中午"
        elif h < 18:
            part = "下午"
        else:
            part = "晚上"
        return f"{part}{h if h <= 12 else h - 12}:{m:02d}"
    return f"{(h % 12) or 12}:{m:02d} {'am' if h < 12 else 'pm'}"


def local_dt(
    value: datetime | str, tz: str | ZoneInfo, locale: str, *, spoken: bool = False
) -> str:
    """An instant in zone ``tz``: ``11月30日（周一）上午9:30`` / ``Mon 30 Nov, 9:30 am``.

    ``spoken=True`` (voice prompts) spells English names out: ``Monday 30 November at 9:30 am``.
    """
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    local = _instant(value).astimezone(zone)
    if _zh(locale):
        weekday_zh = _WEEKDAYS_ZH[local.weekday()]
        return f"{local.month}月{local.day}日（周{weekday_zh}）{clock(local, locale)}"
    if spoken:
        weekday, month = _WEEKDAYS_EN_FULL[local.weekday()], _MONTHS_EN_FULL[local.month - 1]
        return f"{weekday} {local.day} {month} at {clock(local, locale)}"
    day = f"{_WEEKDAYS_EN[local.weekday()]} {local.day} {_MONTHS_EN[local.month - 1]}"
    return f"{day}, {clock(local, locale)}"


def local_date(value: date | datetime | str, locale: str, *, year: bool = False) -> str:
    """A calendar date: ``12月1日`` / ``1 Dec``; ``year=True`` adds the year."""
    d = _day(value)
    if _zh(locale):
        return (f"{d.year}年" if year else "") + f"{d.month}月{d.day}日"
    return f"{d.day} {_MONTHS_EN[d.month - 1]}" + (f" {d.year}" if year else "")


def _number(value: float | int | Decimal | str) -> str:
    """``380`` for whole amounts, ``380.50`` otherwise; thousands separated by commas."""
    amount = Decimal(str(value))
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def money(value: float | int | Decimal | str, locale: str, *, spoken: bool = False) -> str:
    """A price in yuan: ``¥380`` / ``CNY 380``; ``spoken=True``: ``380元`` / ``380 yuan``.
    Nothing to pay reads ``免费`` / ``free`` (an accident assessment, say), never ``¥0``."""
    if Decimal(str(value)) == 0:
        return "免费" if _zh(locale) else "free"
    amount = _number(value)
    if _zh(locale):
        return f"{amount}元" if spoken else f"¥{amount}"
    return f"{amount} yuan" if spoken else f"CNY {amount}"


def hours(value: float | int | Decimal | str, locale: str) -> str:
    """An estimated duration: ``约1.5小时`` / ``about 1.5 hours``."""
    amount = float(value)
    text = f"{amount:g}"
    if _zh(locale):
        return f"约{text}小时"
    return f"about {text} {'hour' if amount == 1 else 'hours'}"


def km(value: int | float | str, locale: str) -> str:
    """A distance with thousands separators: ``25,000公里`` / ``25,000 km``."""
    amount = f"{round(float(value)):,}"
    return f"{amount}公里" if _zh(locale) else f"{amount} km"


def localized(value: str | Mapping[str, str], locale: str) -> str:
    """A text that may be given per locale (``{"zh-CN": …, "en": …}``): the one for ``locale``."""
    if isinstance(value, str):
        return value
    for key in (locale, "en", "zh-CN"):
        if value.get(key):
            return value[key]
    raise ValueError(f"no text for locale {locale!r} in {dict(value)!r}")


def join_list(items: Iterable[Any], locale: str) -> str:
    """A list as a sentence part: ``A、B、C`` / ``A, B and C``."""
    texts = [str(i) for i in items]
    if _zh(locale):
        return "、".join(texts)
    if len(texts) <= 2:
        return " and ".join(texts)
    return ", ".join(texts[:-1]) + " and " + texts[-1]


@lru_cache(maxsize=256)  # the dealership's few numbers, in every script that names one
def phone(value: str, locale: str) -> str:
    """A contact number as people write it: ``021 5555 0100`` (zh-CN), international in English."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value  # not E.164: show it as configured
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(
        number, style.NATIONAL if _zh(locale) else style.INTERNATIONAL
    )


def plate(value: str, locale: str) -> str:
    """A number plate as the customer's language writes it.

    Chinese keeps the plate whole (``沪A·14490``).  English drops what the GSM alphabet lacks —
    the province character and the separator dot — and keeps the letters and digits
    (``A14490``): the car is still unmistakable beside its model, and the message stays GSM-7
    (one Chinese character makes the whole SMS UCS-2, about 2.5 times the segments).
    """
    if _zh(locale):
        return value
    kept = "".join(ch for ch in value if ch in GSM7_BASIC and ch.strip())
    return kept or value


def spaced(value: str) -> str:
    """``value`` and a space when it ends in a Latin letter or digit and Chinese text follows.

    Chinese typesetting puts a space between Latin words and Chinese characters:
    ``星辰汽车 Star Motors 4S 提醒您``, not ``…4S提醒您``.
    """
    return f"{value} " if value[-1:].isascii() and value[-1:].isalnum() else value


FILTERS = {
    "plate": plate,
    "spaced": spaced,
    "phone": phone,
    "local_dt": local_dt,
    "local_date": local_date,
    "money": money,
    "hours": hours,
    "km": km,
    "localized": localized,
    "join_list": join_list,
}
