"""The outbox: every outbound SMS and call is a row first, then sent exactly once.

Life of a row: :func:`enqueue` writes it in the caller's transaction ("queued", not before
the customer's contact window opens).  A sender claims a batch ("sending"; PostgreSQL
``FOR UPDATE SKIP LOCKED``, SQLite a guarded UPDATE inside ``BEGIN IMMEDIATE``) with its
send slots (``outbox.claim``), sends outside any transaction (``outbox.sending``) and
records the provider's SID in a new one (``outbox.record``); ``outbox.loop`` runs that
cycle, :func:`recover_stuck` settles rows whose sender died (``outbox.recovery``), and
``outbox.breaker`` pauses every sender while the provider is down.  The entry point hands
the outbox its :class:`Hooks` (what the conversation does with an unanswered call).
"""

from outreach.outbox.claim import Batch, Claim, claim_batch, claim_horizon, send_by, take_batch
from outreach.outbox.loop import DispatchStats, dispatch
from outreach.outbox.queue import (
    CONVERSATION_TEMPLATE,
    ESCALATION_TEMPLATE,
    answer_deadline,
    cancel_pending,
    enqueue,
)
from outreach.outbox.record import Hooks, record, record_sent
from outreach.outbox.recovery import recover_stuck
from outreach.outbox.sending import Outcome, answer_url, find_sent, look_up, send

__all__ = [
    "CONVERSATION_TEMPLATE",
    "ESCALATION_TEMPLATE",
    "Batch",
    "Claim",
    "DispatchStats",
    "Hooks",
    "Outcome",
    "answer_deadline",
    "answer_url",
    "cancel_pending",
    "claim_batch",
    "claim_horizon",
    "dispatch",
    "enqueue",
    "find_sent",
    "look_up",
    "record",
    "record_sent",
    "recover_stuck",
    "send",
    "send_by",
    "take_batch",
]
