"""The jobs the scheduler and the command line run: each one unit of work in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from outreach.models import Outreach
from outreach.planning import plan_outreach
from outreach.settings import Settings


@dataclass
class CampaignRun:
    today: date
    budget: int | None
    planned: list[Outreach] = field(default_factory=list)

    def summary(self) -> str:
        by_campaign = Counter(o.campaign for o in self.planned)
        detail = ", ".join(f"{k} {v}" for k, v in sorted(by_campaign.items()))
        budget = "no limit" if self.budget is None else f"budget {self.budget}"
        return f"{self.today}: planned {len(self.planned)} outreach ({budget})" + (
            f": {detail}" if detail else ""
        )


def run_campaigns(
    session: Session, settings: Settings, *, today: date, now: datetime, limit: int | None = None
) -> CampaignRun:
    """Plan today's outreach, at most ``limit`` new customers."""
    run = CampaignRun(today=today, budget=limit)
    run.planned = plan_outreach(session, settings, today=today, now=now, limit=limit)
    return run
