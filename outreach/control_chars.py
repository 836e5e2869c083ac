"""Control characters: what text from outside (an SMS, a CSV cell) may not carry inside.

The C0 set but tab, line feed and carriage return (ordinary whitespace), DEL and the C1 set.
PostgreSQL refuses NUL in text outright; the others are never meant as text either.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def remove_controls(text: str) -> str:
    """``text`` without its control characters (``"STOP\\x00"`` → ``"STOP"``)."""
    return CONTROL.sub("", text)


def first_control(text: str) -> str | None:
    """The first control character in ``text`` as ``U+0000``, or None when there is none."""
    found = CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"
