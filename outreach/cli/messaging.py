"""Commands: messaging."""

import contextlib
import time

import click

from outreach.cli import App, pass_app
from outreach.gateway import Gateway
from outreach.scheduler import (
    REGISTRY,
    JobContext,
    available_jobs,
    build_scheduler,
    dispatch_job,
    recovery_job,
    run_job,
)

commands: list[click.Command] = []


# --- the outbox sender and the scheduler -------------------------------------------------


def _job_context(app: App) -> JobContext:
    def gateway() -> Gateway:
        from outreach.gateway import make_gateway

        return make_gateway(app.settings, app.sessions)

    return JobContext(settings=app.settings, sessions=app.sessions, gateway_factory=gateway)


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Drain what may be sent now, then exit.")
@click.option("--recover/--no-recover", default=True, help="Settle stuck sends first.")
@click.option("--every", default=5.0, show_default=True, help="Seconds between drains.")
@pass_app
def dispatch_command(app: App, once: bool, recover: bool, every: float) -> None:
    """Send the outbox: claim due messages, pace them, record each send."""
    ctx = _job_context(app)
    while True:
        if recover:
            recovery_job(ctx, ctx.clock())
        stats = dispatch_job(ctx, ctx.clock())
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(stats.outcomes.items()))
        click.echo(f"claimed {stats.claimed}: {outcomes or 'nothing due'}")
        if once:
            return
        time.sleep(every)


@click.command("scheduler")
@click.option("--run", "run_name", default=None, help="Run this job once now and exit.")
@click.option("--list", "list_jobs", is_flag=True, help="List the jobs and exit.")
@pass_app
def scheduler_command(app: App, run_name: str | None, list_jobs: bool) -> None:
    """Run the scheduler (its own process; never inside the web workers)."""
    ctx = _job_context(app)
    if list_jobs:
        ready = set(available_jobs())
        for name, spec in REGISTRY.items():
            state = "ready" if name in ready else "not installed"
            click.echo(f"{name:14} {state:14} {spec.help}")
        return
    if run_name:
        if run_name not in REGISTRY:
            raise click.BadParameter(f"unknown job {run_name!r}", param_hint="--run")
        now = ctx.clock()
        result = run_job(run_name, ctx, now, run_key=f"manual:{now.isoformat()}")
        click.echo(f"{run_name}: {result}")
        return
    scheduler = build_scheduler(ctx)
    click.echo("scheduler: " + ", ".join(job.id for job in scheduler.get_jobs()))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


commands.extend([dispatch_command, scheduler_command])
