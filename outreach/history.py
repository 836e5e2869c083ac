"""Keeping ``vehicle_history`` (one summary row per vehicle) in step with ``visits``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from outreach.models import SERVICE_VISIT_TYPES, VehicleHistory, Visit

BATCH = 5000


def history_select():
    """The per-vehicle aggregate of ``visits``, in ``vehicle_history``'s column order."""
    service = Visit.type.in_(SERVICE_VISIT_TYPES)
    read = Visit.odometer_km.is_not(None)
    last_service_on = func.max(case((service, Visit.visited_on)))
    service_read_on = func.max(case((and_(service, read), Visit.visited_on)))
    return select(
        Visit.vehicle_id,
        func.max(Visit.visited_on),
        last_service_on,
        # the reading at the last service, only when that service itself was read
        case(
            (service_read_on == last_service_on, func.max(case((service, Visit.odometer_km)))),
            else_=None,
        ),
        func.min(case((read, Visit.visited_on))),
        func.max(case((read, Visit.visited_on))),
        func.min(Visit.odometer_km),
        func.max(Visit.odometer_km),
    ).group_by(Visit.vehicle_id)


COLUMNS = [
    "vehicle_id",
    "last_visit_on",
    "last_service_on",
    "service_km",
    "first_read_on",
    "last_read_on",
    "first_km",
    "last_km",
]


def refresh_history(session: Session, vehicle_ids: Iterable[int] | None = None) -> None:
    """Rebuild the summary rows of ``vehicle_ids`` (all vehicles when None) from their visits."""
    if vehicle_ids is None:
        session.execute(delete(VehicleHistory))
        session.execute(insert(VehicleHistory).from_select(COLUMNS, history_select()))
        return
    ids = sorted(set(vehicle_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        session.execute(delete(VehicleHistory).where(VehicleHistory.vehicle_id.in_(chunk)))
        session.execute(
            insert(VehicleHistory).from_select(
                COLUMNS, history_select().where(Visit.vehicle_id.in_(chunk))
            )
        )
