"""Confirmations made at the same moment: threads share an engine, processes make their own.

Kept in an importable module so that ``multiprocessing`` with ``spawn`` can start them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from outreach.capacity import SlotTaken, book, run_with_retries
from outreach.db import make_engine, make_sessionmaker
from outreach.settings import Settings


def confirm(
    engine: Engine,
    settings: Settings,
    customer_id: int,
    vehicle_id: int,
    starts_at: datetime,
    now: datetime,
    jobs: list[str],
) -> str:
    """One confirmation in its own transaction: "booked" or "taken"."""

    def work(session: Any) -> None:
        book(
            session,
            settings,
            customer_id=customer_id,
            vehicle_id=vehicle_id,
            jobs=jobs,
            starts_at=starts_at,
            now=now,
        )

    try:
        run_with_retries(make_sessionmaker(engine), work)
    except SlotTaken:
        return "taken"
    return "booked"


def process_main(url: str, settings: Settings, go: Any, results: Any, tasks: list[tuple]) -> None:
    """A process: its own engine, wait for the start signal, then confirm each task."""
    engine = make_engine(url)
    try:
        engine.connect().close()  # connect before the start, so all processes race the booking
        go.wait(60)
        for task in tasks:
            try:
                results.put(confirm(engine, settings, *task))
            except Exception as exc:  # report, so the test fails with the reason
                results.put(f"error: {exc!r}")
    finally:
        engine.dispose()
