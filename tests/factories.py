"""Small factories for the customer file: ``make_customer(session, **overrides)`` and friends."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from outreach.history import refresh_history
from outreach.models import Advisor, Customer, DeferredItem, Vehicle, Visit

_ids = itertools.count(1)


def _next(prefix: str) -> str:
    return f"{prefix}{next(_ids):06d}"


def make_advisor(session: Session, **overrides: Any) -> Advisor:
    values: dict[str, Any] = {"code": _next("A"), "name": "王芳"}
    values.update(overrides)
    advisor = Advisor(**values)
    session.add(advisor)
    session.flush()
    return advisor


def make_customer(session: Session, **overrides: Any) -> Customer:
    n = next(_ids)
    values: dict[str, Any] = {
        "external_id": f"C{n:06d}",
        "name": "李雷",
        "phone": f"+86139{n:08d}",
        "locale": "zh-CN",
        "timezone": "Asia/Shanghai",
        "preferred_channel": "sms",
        "consent": True,
    }
    values.update(overrides)
    customer = Customer(**values)
    session.add(customer)
    session.flush()
    return customer


def make_vehicle(session: Session, customer: Customer | None = None, **overrides: Any) -> Vehicle:
    customer = customer or make_customer(session)
    values: dict[str, Any] = {
        "external_id": _next("V"),
        "customer_id": customer.id,
        "vin": "LSVAU2180N2" + f"{next(_ids):06d}",
        "plate": "沪A12345",
        "model": "Volkswagen Lavida",
        "model_year": 2021,
    }
    values.update(overrides)
    vehicle = Vehicle(**values)
    session.add(vehicle)
    session.flush()
    return vehicle


def make_visit(
    session: Session,
    vehicle: Vehicle,
    visited_on: date,
    odometer_km: int | None = None,
    type: str = "maintenance",
    **overrides: Any,
) -> Visit:
    visit = Visit(
        external_id=_next("S"),
        vehicle_id=vehicle.id,
        visited_on=visited_on,
        odometer_km=odometer_km,
        type=type,
        **overrides,
    )
    session.add(visit)
    session.flush()
    refresh_history(session, [vehicle.id])
    return visit


def make_item(session: Session, vehicle: Vehicle, due_by: date, **overrides: Any) -> DeferredItem:
    values: dict[str, Any] = {
        "external_id": _next("D"),
        "vehicle_id": vehicle.id,
        "description": "后刹车片剩余 30%，两个月内更换",
        "severity": "safety",
        "due_by": due_by,
    }
    values.update(overrides)
    item = DeferredItem(**values)
    session.add(item)
    session.flush()
    return item
