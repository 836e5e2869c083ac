"""A small workshop with round numbers, so every limit can be reached in a few bookings.

Weekdays 09:00-17:00 (weekends closed), two advisors with one car per 15 minutes each, at most
two arrivals per interval, one technician with 5 hours (4 bookable after the 20 % reserve), and
one alignment bay with 1 hour a day.  "Now" is Sunday 2026-05-31 12:00 in Shanghai.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from outreach.capacity.config import AdvisorCapacity, CapacityConfig, JobType
from outreach.settings import Settings
from tests.factories import make_vehicle

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 31, 12, 0, tzinfo=SHANGHAI).astimezone(UTC)

JOBS = {
    "small": JobType("small", {"zh-CN": "小保养", "en": "small service"}, 1.0, 300.0),
    "big": JobType("big", {"zh-CN": "大保养", "en": "major service"}, 2.0, 900.0),
    "align": JobType("align", {"zh-CN": "四轮定位", "en": "wheel alignment"}, 1.0, 300.0, "bay"),
    "quick": JobType("quick", {"zh-CN": "检查", "en": "check"}, 0.25, 0.0),
}


def capacity_settings(
    base: Settings, timezone: str = "Asia/Shanghai", **overrides: Any
) -> Settings:
    weekday = (time(9, 0), time(17, 0))
    config = CapacityConfig(
        interval_minutes=15,
        max_arrivals_per_interval=2,
        opening_hours={**{d: weekday for d in range(5)}, 5: None, 6: None},
        advisors=(
            AdvisorCapacity("A01", "王芳", frozenset(range(5))),
            AdvisorCapacity("A02", "张伟", frozenset(range(5))),
        ),
        technicians=1,
        hours_per_technician=5.0,
        reserved_share=0.20,
        job_types=JOBS,
        resources={"bay": 1.0},
        min_lead_hours=2.0,
        horizon_days=14,
    )
    config = replace(config, **overrides)
    dealership = replace(base.dealership, timezone=timezone, country="CN")
    return replace(base, capacity=config, dealership=dealership)


@pytest.fixture
def cap(settings: Settings) -> Settings:
    return capacity_settings(settings)


def local(day: str, hhmm: str, tz: str | ZoneInfo = SHANGHAI) -> datetime:
    """An aware UTC instant from a local date and time."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=zone).astimezone(UTC)


def customer_with_vehicle(session: Session) -> tuple[int, int]:
    vehicle = make_vehicle(session)
    return vehicle.customer_id, vehicle.id
