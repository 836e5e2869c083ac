"""What a customer said about when they can come: the bridge from replies to slot offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

PARTS_OF_DAY: dict[str, tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(18, 0)),
    "evening": (time(18, 0), time(23, 59)),
}


@dataclass(frozen=True)
class SlotPreference:
    """A customer's stated preference, in the dealership's local time.

    Every field narrows the offer; ``None`` means "no preference".  ``at`` is an exact local
    time ("9:30"); ``part_of_day`` is one of :data:`PARTS_OF_DAY`; ``weekday`` is 0 = Monday;
    ``earliest``: "as early as possible" (有没有更早的, anything sooner?) — the first free times,
    not the levelled spread.
    """

    on: date | None = None
    weekday: int | None = None
    part_of_day: str | None = None
    at: time | None = None
    not_before: date | None = None
    earliest: bool = False

    def is_empty(self) -> bool:
        fields = (self.on, self.weekday, self.part_of_day, self.at)
        return not self.earliest and all(v is None for v in fields)
