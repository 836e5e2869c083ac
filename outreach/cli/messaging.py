"""Commands for messaging: the senders, the scheduler, the webhooks app and the simulator."""

import contextlib
import logging
import time
from dataclasses import replace
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from outreach.cli.app import App, pass_app
from outreach.db import check_database, is_transient
from outreach.gateway import Gateway
from outreach.gateways import check_gateway, make_gateway
from outreach.scheduler import (
    REGISTRY,
    JobContext,
    UnknownJob,
    build_scheduler,
    dispatch_job,
    recovery_job,
    run_job,
)
from outreach.settings import ConfigError, Settings
from webhooks import create_app
from webhooks.simulator import Phone

commands: list[click.Command] = []
log = logging.getLogger(__name__)
DB_BACKOFF_MAX_SECONDS = 60.0


# --- the outbox sender and the scheduler -------------------------------------------------


def _job_context(app: App) -> JobContext:
    try:
        check_gateway(app.settings)  # e.g. a registered SMS template that cannot be sent
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None

    def gateway() -> Gateway:
        return make_gateway(app.settings, app.sessions)

    return JobContext(settings=app.settings, sessions=app.sessions, gateway_factory=gateway)


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Drain what may be sent now, then exit.")
@click.option("--recover/--no-recover", default=True, help="Settle stuck sends first.")
@click.option("--every", default=5.0, show_default=True, help="Seconds between drains.")
@pass_app
def dispatch_command(app: App, once: bool, recover: bool, every: float) -> None:
    """Send the outbox: claim due messages, pace them, record each send.

    The sender outlives its database: a lost connection is logged in one line and the
    drain is tried again after a back-off (1 s, doubling up to a minute).
    """
    ctx: JobContext | None = None
    outage = 0
    while True:
        try:
            ctx = ctx or _job_context(app)  # the first connection may fail too
            if recover:
                recovery_job(ctx, ctx.clock())
            stats = dispatch_job(ctx, ctx.clock())
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            outage += 1
            pause = min(DB_BACKOFF_MAX_SECONDS, 2.0 ** (outage - 1))
            reason = str(exc.orig or exc).strip().splitlines()[0]
            log.warning("dispatch: database unavailable (%s); retrying in %.0f s", reason, pause)
            time.sleep(pause)
            continue
        if outage:
            log.warning("dispatch: database available again after %d failed drains", outage)
            outage = 0
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(stats.outcomes.items()))
        paused = (
            f"; provider paused until {stats.paused_until:%H:%M:%S}" if stats.paused_until else ""
        )
        idle = "sending paused" if stats.paused_until else "nothing due"
        click.echo(f"claimed {stats.claimed}: {outcomes or idle}{paused}")
        if once:
            return
        time.sleep(every)


@click.command("scheduler")
@click.option("--run", "run_name", default=None, help="Run this job once now and exit.")
@click.option("--list", "list_jobs", is_flag=True, help="List the jobs and exit.")
@pass_app
def scheduler_command(app: App, run_name: str | None, list_jobs: bool) -> None:
    """Run the scheduler (its own process; never inside the web workers)."""
    if list_jobs:
        for name, spec in REGISTRY.items():
            click.echo(f"{name:14} {spec.help}")
        return
    if run_name is not None and run_name not in REGISTRY:
        raise click.BadParameter(str(UnknownJob(run_name)), param_hint="--run")
    ctx = _job_context(app)
    if run_name:
        now = ctx.clock()
        result = run_job(run_name, ctx, now, run_key=f"manual:{now.isoformat()}")
        click.echo(f"{run_name}: {result}")
        return
    scheduler = build_scheduler(ctx)
    click.echo("scheduler: " + ", ".join(job.id for job in scheduler.get_jobs()))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


commands.extend([dispatch_command, scheduler_command])


# --- the webhooks app and the customer simulator ------------------------------------------


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_app
def serve_command(app: App, host: str, port: int) -> None:
    """Run the webhooks app with Flask's development server (production: gunicorn)."""
    run_server(app, host, port)


def run_server(app: App, host: str, port: int) -> None:
    """Check the database, then serve the webhooks, the desk and the simulator on host:port."""
    check_database(app.engine)  # a dead database is said here, not on the first sign-in
    settings = _local_signing(app, f"http://{host}:{port}")
    click.echo(f"gateway {settings.gateway}; requests are signed for {settings.public_base_url}")
    try:
        web = create_app(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    web.run(host=host, port=port)


def _local_signing(app: App, url: str) -> Settings:
    """In sandbox mode with no PUBLIC_BASE_URL set, sign for the local address itself.

    Then ``outreach serve --port 5077`` and ``outreach simulate --url http://127.0.0.1:5077``
    agree without configuration; with Twilio, PUBLIC_BASE_URL always decides.
    """
    if app.settings.gateway == "sandbox" and not app.environ.get("PUBLIC_BASE_URL"):
        return replace(app.settings, public_base_url=url.rstrip("/"))
    return app.settings


def _show(answer: Any) -> None:
    if answer.status != 200:
        click.echo(f"  [HTTP {answer.status}]")
    for text in answer.says:
        click.echo(f"  bot> {text}")
    if answer.hangup:
        click.echo("  [hung up]")


@click.command("simulate")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True, help="The server.")
@click.option("--from", "sender", default="+8613912345678", show_default=True)
@click.option("--to", "our_number", default=None, help="Our number (default: TWILIO_FROM).")
@click.option("--voice", is_flag=True, help="Place a call instead of texting.")
@click.argument("message", required=False)
@pass_app
def simulate_command(
    app: App, url: str, sender: str, our_number: str | None, voice: bool, message: str | None
) -> None:
    """Play the customer: send signed SMS (or a call) to a running server, print the answers.

    Without MESSAGE, an interactive session: each line typed is the next SMS (or, on a call,
    the next keypad/speech answer); an empty line ends it.
    """
    twilio = app.settings.twilio
    number = our_number or (twilio.from_number if twilio else None) or "+15005550006"
    phone = Phone(_local_signing(app, url), url, sender, number)
    try:
        if voice:
            answer = phone.call()
            _show(answer)
            while answer.gather_url:
                said = message or click.prompt("you", default="", show_default=False)
                message = None
                if not said:
                    return
                answer = phone.respond(answer, said)
                _show(answer)
            return
        if message:
            _show(phone.text(message))
            return
        while said := click.prompt("you", default="", show_default=False):
            _show(phone.text(said))
    except OSError as exc:
        raise click.ClickException(f"{url}: {exc}") from None


commands.extend([serve_command, simulate_command])
