"""The scheduler: one process that decides *when* each job runs (APScheduler 3.x).

Run it as its own process (``outreach scheduler``), never inside web workers: a scheduler
started in each gunicorn worker would run every job once per worker.  Running two by
mistake is still safe: before a job body runs, its run is claimed in ``job_runs`` under
UNIQUE(job, run_key), where ``run_key`` is the scheduled fire time rounded to the job's
period; the second scheduler's insert fails and it skips that run.  Every trigger is a cron
trigger, so all schedulers fire at the same aligned instants and compute the same keys.

Each job body is a plain function ``(ctx, now)``; :func:`run_job` runs one by name, which is
also how the command line runs a job once for cron-style deployments.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from outreach.capacity import release_expired_holds
from outreach.conversation import call_unanswered, close_stale
from outreach.db import run_with_retries, transaction
from outreach.delivery import prune_pending
from outreach.escalation import escalate
from outreach.gateway import Gateway
from outreach.jobs import check_no_shows, run_campaigns, send_confirmations
from outreach.models import JobRun
from outreach.outbox import Hooks, dispatch, recover_stuck
from outreach.settings import Settings

log = logging.getLogger(__name__)

JOB_RUNS_KEPT = timedelta(days=14)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobContext:
    """What a job needs: settings, a session factory, a gateway, a clock (injectable in tests)."""

    settings: Settings
    sessions: sessionmaker[Session]
    gateway_factory: Callable[[], Gateway]
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    clock: Callable[[], datetime] = _utcnow
    sleep: Callable[[float], None] = time.sleep
    _gateway: Gateway | None = None

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            self._gateway = self.gateway_factory()
        return self._gateway


@dataclass(frozen=True)
class JobSpec:
    """A job: its body ``(ctx, now)`` and when it fires."""

    name: str
    body: Callable[[JobContext, datetime], Any]
    cron: Callable[[Settings], dict[str, Any]]
    period_seconds: Callable[[Settings], int] | None = None  # None: once a day
    help: str = ""

    def run_key(self, now: datetime, settings: Settings) -> str:
        """The scheduled run ``now`` belongs to: the fire time rounded to the job's period."""
        if self.period_seconds is None:
            return now.astimezone(settings.tz).date().isoformat()
        period = self.period_seconds(settings)
        epoch = int(now.timestamp()) // period * period
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _daily(attr: str) -> Callable[[Settings], dict[str, Any]]:
    def cron(settings: Settings) -> dict[str, Any]:
        at = getattr(settings.scheduling, attr)
        return {"hour": at.hour, "minute": at.minute}

    return cron


def campaigns_job(ctx: JobContext, now: datetime) -> Any:
    """Plan today's outreach (the dealership's today)."""
    today = now.astimezone(ctx.settings.tz).date()
    run = run_with_retries(
        ctx.sessions, lambda session: run_campaigns(session, ctx.settings, today=today, now=now)
    )
    return run.summary()


def confirmations_job(ctx: JobContext, now: datetime) -> Any:
    """Queue the day-before confirmations."""
    return run_with_retries(
        ctx.sessions, lambda session: send_confirmations(session, ctx.settings, now)
    )


def no_shows_job(ctx: JobContext, now: datetime) -> Any:
    """Mark missed appointments and offer new times."""
    return run_with_retries(
        ctx.sessions, lambda session: check_no_shows(session, ctx.settings, now)
    )


def holds_job(ctx: JobContext, now: datetime) -> Any:
    """Release slot holds that expired unconfirmed."""
    return run_with_retries(ctx.sessions, lambda session: release_expired_holds(session, now))


def stale_job(ctx: JobContext, now: datetime) -> Any:
    """Close conversations nobody has answered for a while."""
    return run_with_retries(ctx.sessions, lambda session: close_stale(session, ctx.settings, now))


def outbox_hooks() -> Hooks:
    """What the outbox calls back into: the conversation's SMS after an unanswered call."""
    return Hooks(call_unanswered=call_unanswered)


def dispatch_job(ctx: JobContext, now: datetime) -> Any:
    """Drain the outbox: everything that may be sent now."""
    return dispatch(
        ctx.sessions,
        ctx.gateway,
        ctx.settings,
        worker=ctx.owner,
        clock=ctx.clock,
        sleep=ctx.sleep,
        hooks=outbox_hooks(),
    )


def escalation_job(ctx: JobContext, now: datetime) -> Any:
    """Take the next due escalation step of every unanswered outreach."""
    return run_with_retries(ctx.sessions, lambda session: escalate(session, ctx.settings, now))


def recovery_job(ctx: JobContext, now: datetime) -> Any:
    """Settle stuck sends; prune old job-run rows and status callbacks never matched."""
    with transaction(ctx.sessions) as session:
        counts = recover_stuck(session, ctx.gateway, ctx.settings, now, hooks=outbox_hooks())
        session.execute(delete(JobRun).where(JobRun.started_at < now - JOB_RUNS_KEPT))
        counts["pruned_statuses"] = prune_pending(session, now)
    return counts


REGISTRY: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "campaigns",
            campaigns_job,
            _daily("campaigns_at"),
            help="queue the day's due customers, paced by workshop capacity",
        ),
        JobSpec(
            "dispatch",
            dispatch_job,
            lambda s: {"second": f"*/{s.scheduling.dispatch_seconds}"},
            lambda s: s.scheduling.dispatch_seconds,
            help="send what the outbox may send now",
        ),
        JobSpec(
            "confirmations",
            confirmations_job,
            _daily("confirmations_at"),
            help="day-before appointment confirmations",
        ),
        JobSpec(
            "no_shows",
            no_shows_job,
            lambda s: {"minute": "*/30"},
            lambda s: 1800,
            help="mark missed appointments and follow up",
        ),
        JobSpec(
            "holds",
            holds_job,
            lambda s: {"minute": "*"},
            lambda s: 60,
            help="release slot holds nobody confirmed",
        ),
        JobSpec(
            "escalation",
            escalation_job,
            lambda s: {"minute": f"*/{s.scheduling.escalation_minutes}"},
            lambda s: s.scheduling.escalation_minutes * 60,
            help="move unanswered outreach along its plan",
        ),
        JobSpec(
            "stale",
            stale_job,
            lambda s: {"minute": "7"},
            lambda s: 3600,
            help="close conversations nobody has answered for [conversation] stale_after_hours",
        ),
        JobSpec(
            "recovery",
            recovery_job,
            lambda s: {"minute": f"*/{s.scheduling.recovery_minutes}"},
            lambda s: s.scheduling.recovery_minutes * 60,
            help="settle sends stuck past their lease",
        ),
    )
}


class UnknownJob(LookupError):
    """No job of that name; the message lists the names there are."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no job named {name!r}; the jobs are: {', '.join(REGISTRY)}")


def claim_run(
    sessions: sessionmaker[Session], job: str, key: str, owner: str, now: datetime
) -> int | None:
    """Insert the run's row; its id, or None if another scheduler claimed this run first."""
    try:
        with transaction(sessions) as session:
            run = JobRun(job=job, run_key=key, owner=owner[:64], started_at=now)
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        return None


def run_job(name: str, ctx: JobContext, now: datetime, *, run_key: str | None = None) -> Any:
    """Run job ``name`` once for the scheduled run ``now`` belongs to; "skipped" if taken.

    ``run_key`` overrides the key (the command line passes a unique one: a manual run
    always runs).  A failing body is recorded in ``job_runs`` and re-raised.
    """
    spec = REGISTRY.get(name)
    if spec is None:
        raise UnknownJob(name)
    key = run_key or spec.run_key(now, ctx.settings)
    run_id = claim_run(ctx.sessions, name, key, ctx.owner, now)
    if run_id is None:
        log.info("job %s run %s: already taken by another scheduler", name, key)
        return "skipped"
    try:
        result = spec.body(ctx, now)
    except Exception as exc:
        _finish_run(ctx, run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    _finish_run(ctx, run_id, "done", repr(result)[:2000])
    return result


def _finish_run(ctx: JobContext, run_id: int, status: str, detail: str) -> None:
    with transaction(ctx.sessions) as session:
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(status=status, detail=detail, finished_at=ctx.clock())
        )


def _scheduled(name: str, ctx: JobContext) -> None:
    # The scheduler's entry point: the one place a job's "now" is read from the clock.
    try:
        run_job(name, ctx, ctx.clock())
    except Exception:
        log.exception("job %s failed", name)


def build_scheduler(ctx: JobContext, names: list[str] | None = None) -> BlockingScheduler:
    """A BlockingScheduler in the dealership's zone with every job (or ``names``)."""
    settings = ctx.settings
    scheduler = BlockingScheduler(
        timezone=settings.tz,
        job_defaults={
            "coalesce": True,
            "misfire_grace_time": settings.scheduling.misfire_grace_seconds,
            "max_instances": 1,
        },
    )
    for name in names or REGISTRY:
        spec = REGISTRY[name]
        scheduler.add_job(
            _scheduled,
            CronTrigger(timezone=settings.tz, **spec.cron(settings)),
            id=name,
            name=spec.help or name,
            args=[name, ctx],
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=settings.scheduling.misfire_grace_seconds,
            max_instances=1,
        )
    return scheduler
