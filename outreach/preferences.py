"""What a customer said about when they can come: the bridge from replies to slot offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

NOON = time(12, 0)
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
        return not self.earliest and not self.names_a_time()

    def names_a_time(self) -> bool:
        """Whether it says which day or which time, not only "sooner" or "after the 10th"."""
        return any(v is not None for v in (self.on, self.weekday, self.part_of_day, self.at))

    def fits(self, local: datetime) -> bool:
        """Whether a slot starting at ``local`` (the dealership's time) is what was said: the
        day, the weekday, the part of the day and the exact time, where said."""
        if self.on is not None and local.date() != self.on:
            return False
        if self.weekday is not None and local.weekday() != self.weekday:
            return False
        if self.part_of_day is not None and self.at is None:  # "12点，上午要送孩子": the 12
            lo, hi = PARTS_OF_DAY[self.part_of_day]
            noon = self.part_of_day == "afternoon" and local.time() == NOON
            if noon or not lo <= local.time() < hi:
                return False  # a slot at 12:00 is at noon, not "in the afternoon"
        return self.at is None or (local.hour, local.minute) == (self.at.hour, self.at.minute)
