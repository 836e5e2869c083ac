"""The scheduler's registry: every job this installation has is listed and runnable."""

from __future__ import annotations

from outreach.db import make_sessionmaker
from outreach.scheduler import REGISTRY, JobContext, available_jobs, run_job
from tests.outbox.conftest import OPEN_NOW, FakeGateway

# Written elsewhere: listed when their bodies exist in outreach.jobs.
OPTIONAL = {"confirmations", "no_shows"}


class TestRegistry:
    def test_every_job_but_the_optional_ones_is_available(self):
        """`outreach scheduler --list` shows each registered job as ready."""
        assert set(REGISTRY) - OPTIONAL <= set(available_jobs())

    def test_confirmations_and_no_shows_point_at_outreach_jobs(self):
        """The day-before confirmations and no-show checks run outreach.jobs' functions."""
        assert REGISTRY["confirmations"].requires == "outreach.jobs:send_confirmations"
        assert REGISTRY["no_shows"].requires == "outreach.jobs:check_no_shows"

    def test_holds_job_releases_expired_holds(self, committing_engine, settings):
        """The holds job runs outreach.capacity.release_expired_holds (nothing to release: 0)."""
        assert REGISTRY["holds"].requires == "outreach.capacity:release_expired_holds"
        ctx = JobContext(settings, make_sessionmaker(committing_engine), FakeGateway)
        assert run_job("holds", ctx, OPEN_NOW) == 0


class TestStaleJob:
    def test_the_stale_conversation_job_is_installed_hourly(self, settings):
        """Stale conversations are closed by an hourly job that delegates to the conversation."""
        from outreach.scheduler import REGISTRY, resolve

        spec = REGISTRY["stale"]
        assert spec.requires == "outreach.conversation:close_stale"
        assert spec.period_seconds is not None and spec.period_seconds(settings) == 3600
        assert callable(resolve(spec))
