"""Chinese numerals (三, 十一, 两万五) and the colloquial forms customers text (3万2 = 32,000)."""

from __future__ import annotations

import re

DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
CN = "零〇一二两三四五六七八九十百千万"
# A small number written either way: "3", "12", "三", "十二", "两".
SMALL = r"(\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"


def cn_to_int(text: str) -> int | None:
    """``十一`` → 11, ``两万五`` → 25000, ``3万2`` → 32000; None when it is not a number.

    A lone digit after the largest unit counts one unit lower, as people say it:
    两万五 is 25,000 and 三千五 is 3,500.
    """
    if not text:
        return None
    if text.isdecimal():
        return int(text)
    total = section = number = 0
    last_unit = 1
    seen = False
    for ch in text:
        if ch.isdecimal():
            number = number * 10 + int(ch) if seen and number else int(ch)
            seen = True
        elif ch in DIGITS:
            number = DIGITS[ch]
            seen = True
        elif ch in _UNITS:
            section += (number or 1) * _UNITS[ch]
            number, last_unit, seen = 0, _UNITS[ch], False
        elif ch == "万":
            total += (section + number) * 10000
            section, number, last_unit, seen = 0, 0, 10000, False
        else:
            return None
    if number and last_unit >= 100 and not section % last_unit and number < 10:
        number *= last_unit // 10  # 两万五, 三千五
    return total + section + number


def small(text: str) -> int | None:
    """A number matched by :data:`SMALL`."""
    return cn_to_int(text)


_WAN = re.compile(r"(\d+(?:\.\d+)?)\s*(?:万|w\b)\s*(\d)?(?![\d千])")


def arabic_wan(text: str) -> str:
    """Rewrite "3万2" / "3.2万" as plain digits so one pattern reads every mileage."""

    def repl(m: re.Match[str]) -> str:
        value = float(m.group(1)) * 10000 + (int(m.group(2)) * 1000 if m.group(2) else 0)
        return str(round(value))

    return _WAN.sub(repl, text)
