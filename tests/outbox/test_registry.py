"""The scheduler's registry: every job this installation has is listed and runnable."""

from __future__ import annotations

from outreach.db import make_sessionmaker
from outreach.scheduler import REGISTRY, JobContext, run_job
from tests.outbox.conftest import OPEN_NOW, FakeGateway


class TestRegistry:
    def test_holds_job_releases_expired_holds(self, committing_engine, settings):
        """The holds job runs outreach.capacity.release_expired_holds (nothing to release: 0)."""
        ctx = JobContext(settings, make_sessionmaker(committing_engine), FakeGateway)
        assert run_job("holds", ctx, OPEN_NOW) == 0


class TestStaleJob:
    def test_the_stale_conversation_job_is_installed_hourly(self, settings):
        """Stale conversations are closed by an hourly job."""
        spec = REGISTRY["stale"]
        assert spec.period_seconds is not None and spec.period_seconds(settings) == 3600
