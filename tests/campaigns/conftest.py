"""Helpers for campaign tests: settings with chosen campaign values, and running one campaign."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from outreach.campaigns import DueItem, iter_due
from outreach.settings import Settings


def configure(settings: Settings, campaign: str, **values: Any) -> Settings:
    """``settings`` with some values of one campaign's configuration replaced."""
    current = getattr(settings.campaigns, campaign)
    return replace(
        settings, campaigns=replace(settings.campaigns, **{campaign: replace(current, **values)})
    )


def due(session: Session, settings: Settings, today: date, campaign: str) -> list[DueItem]:
    return list(iter_due(session, settings, today, [campaign]))


@pytest.fixture
def run():
    return due
