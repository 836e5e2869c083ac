"""Reading form fields: local date-times in the dealership's zone, whole numbers, job lists."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


class FormError(ValueError):
    """A form field has the wrong form; the message names the field."""


def local_datetime(value: str | None, tz: ZoneInfo, *, field: str) -> datetime:
    """An ``<input type=datetime-local>`` value read in ``tz``, returned as aware UTC."""
    text = (value or "").strip()
    try:
        local = datetime.fromisoformat(text).replace(tzinfo=tz) if "T" in text else None
    except ValueError:
        local = None
    if local is None:
        raise FormError(f"{field}: expected a date and time like 2025-03-01T09:30")
    return local.astimezone(UTC)


def whole_number(value: str | None, *, field: str) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        raise FormError(f"{field}: expected a whole number") from None


def job_list(value: str | None) -> list[str]:
    """Job codes typed or picked, separated by commas or new lines."""
    parts = (value or "").replace("，", ",").replace("\n", ",").split(",")
    return [p.strip() for p in parts if p.strip()]
