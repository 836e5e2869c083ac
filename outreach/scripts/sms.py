"""SMS encoding and segment counts, as the networks count them.

A message is GSM-7 when every character is in the GSM 03.38 default alphabet or its extension
table; otherwise the whole message is UCS-2 (one Chinese character or emoji is enough).
GSM-7: 160 septets in one message, 153 per part when split (the rest of each part is the
concatenation header); the extension characters (€ ^ { } [ ] ~ | \\ and form feed) take two
septets.  UCS-2: 70 UTF-16 code units, 67 per part; an emoji outside the Basic Multilingual
Plane is a surrogate pair and takes two.  Phones never split an escape sequence or a
surrogate pair across parts, so multi-part messages are packed character by character.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")

# (encoding, units in a single message, units per part of a split message)
_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsSize:
    """What a text costs as SMS: its encoding, length in that encoding's units, and parts."""

    encoding: str
    units: int
    segments: int

    def __str__(self) -> str:
        return f"encoding: {self.encoding}, {self.units} characters, {self.segments} segments"


GSM7 = GSM7_BASIC | GSM7_EXTENDED


def sms_encoding(text: str) -> str:
    """``"GSM-7"`` when every character fits the GSM 03.38 alphabet, else ``"UCS-2"``."""
    return "GSM-7" if GSM7.issuperset(text) else "UCS-2"


def _cost(ch: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return 2 if ch in GSM7_EXTENDED else 1
    return 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair in UTF-16


def _units(text: str, encoding: str) -> int:
    # Counted by the str methods (no loop per character): every reply is measured.
    if encoding == "GSM-7":
        return len(text) + sum(text.count(ch) for ch in GSM7_EXTENDED)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def sms_units(text: str) -> int:
    """The length the network counts: septets for GSM-7, UTF-16 code units for UCS-2."""
    return _units(text, sms_encoding(text))


def segments(text: str) -> int:
    """How many SMS parts ``text`` is sent as (an empty text counts as one message)."""
    encoding = sms_encoding(text)
    single, per_part = _LIMITS[encoding]
    units = _units(text, encoding)
    if units <= single:
        return 1
    if units == len(text):  # every character takes one unit: nothing to keep together
        return -(-units // per_part)
    parts, used = 1, 0
    for ch in text:
        cost = _cost(ch, encoding)
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def measure(text: str) -> SmsSize:
    """Encoding, length and segment count of ``text`` in one value."""
    return SmsSize(sms_encoding(text), sms_units(text), segments(text))
