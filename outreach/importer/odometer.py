"""The odometer rule: readings never decrease along a vehicle's visits, by date.

A reading from the file is rejected when it is lower than a reading of an earlier day or
higher than one of a later day, against the other file rows *and* the stored visits.  Stored
visits are never rejected; a file row that replaces a stored visit takes its place, unless that
row is rejected itself, and then the stored reading counts again (so rejections repeat until
none is new).  Stored readings are trusted first: readings that contradict them are rejected
before file rows are checked against each other; two file rows that contradict only each other
are both rejected, since nothing tells which one is wrong.  Visits of the same day are not
ordered against each other.

:func:`conflicts` is one step of the rule for one vehicle; the importer repeats it, vehicle by
vehicle and round after round, until nothing new is rejected (``outreach.importer.visits``).
"""

from __future__ import annotations

from datetime import date
from itertools import groupby
from operator import itemgetter

Entry = tuple[date, int, str, bool]  # day, km, visit, whether it comes from the file


def conflicts(pool: list[Entry]) -> dict[str, str]:
    """One vehicle's incoming readings below an earlier day's or above a later day's reading.

    Stored readings are trusted first: while an incoming reading contradicts one, only those
    are rejected (then the rest is checked again), so one wrong reading in the file does not
    take its consistent neighbours down with it.
    """
    pool = sorted(pool)
    return _against(pool, stored_only=True) or _against(pool, stored_only=False)


def _against(pool: list[Entry], *, stored_only: bool) -> dict[str, str]:
    """Incoming readings that contradict another reading (a stored one, if ``stored_only``)."""
    days = [list(group) for _, group in groupby(pool, key=itemgetter(0))]
    found: dict[str, str] = {}
    highest: Entry | None = None  # the highest reading of the days before
    for day in days:
        for on, km, visit, incoming in day:
            if incoming and highest is not None and km < highest[1]:
                found[visit] = (
                    f"decreasing odometer: {km} km on {on} is below "
                    f"{highest[1]} km on {highest[0]} (visit {highest[2]})"
                )
        for entry in day:
            if not (stored_only and entry[3]) and (highest is None or entry[1] > highest[1]):
                highest = entry
    lowest: Entry | None = None  # the lowest reading of the days after
    for day in reversed(days):
        for on, km, visit, incoming in day:
            if incoming and lowest is not None and km > lowest[1]:
                found.setdefault(
                    visit,
                    f"decreasing odometer: {km} km on {on} is above "
                    f"{lowest[1]} km on the later {lowest[0]} (visit {lowest[2]})",
                )
        for entry in day:
            if not (stored_only and entry[3]) and (lowest is None or entry[1] < lowest[1]):
                lowest = entry
    return found
