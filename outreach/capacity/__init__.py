"""Workshop capacity: what the workshop can take, slot offers and holds, and overbook-proof booking.

See docs/capacity.md for the model and why booking never overbooks on SQLite or PostgreSQL.
"""

from outreach.capacity.booking import (
    Estimate,
    book,
    cancel,
    end_appointment,
    estimate,
    reschedule,
    run_with_retries,
)
from outreach.capacity.holds import release_customer_holds, release_expired_holds
from outreach.capacity.ledger import SlotTaken
from outreach.capacity.model import SlotUnavailable, UnknownJob
from outreach.capacity.offer import Slot, never_open, offer_slots, past_horizon
from outreach.capacity.pacing import cut_to_budget, daily_offer_budget
from outreach.capacity.report import DayLoad, day_loads

__all__ = [
    "DayLoad",
    "Estimate",
    "Slot",
    "SlotTaken",
    "SlotUnavailable",
    "UnknownJob",
    "book",
    "cancel",
    "cut_to_budget",
    "daily_offer_budget",
    "day_loads",
    "end_appointment",
    "estimate",
    "never_open",
    "offer_slots",
    "past_horizon",
    "release_customer_holds",
    "release_expired_holds",
    "reschedule",
    "run_with_retries",
]
