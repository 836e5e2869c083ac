"""Commands for the advisors' desk: ``users add``, ``users token`` and ``users revoke``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from outreach.accounts import TOKEN_DAYS, AccountError, add_user, issue_token, revoke_tokens
from outreach.cli.app import App, pass_app
from outreach.db import transaction
from outreach.models import ROLES


@click.group()
def users() -> None:
    """Desk accounts and API tokens."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="advisor", show_default=True)
@click.option("--advisor", "advisor_code", help="Link the account to this advisor code.")
@click.option("--name", "display_name", help="Name shown on the desk (default: the advisor's).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_app
def users_add(
    app: App,
    username: str,
    role: str,
    advisor_code: str | None,
    display_name: str | None,
    password_stdin: bool,
) -> None:
    """Create a desk account (prompts for the password)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with transaction(app.sessions) as session:
            add_user(
                session,
                username,
                password,
                role=role,
                display_name=display_name,
                advisor_code=advisor_code,
            )
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {username} added ({role})")


@users.command("token")
@click.argument("username")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=TOKEN_DAYS,
    show_default=True,
    help="How long the token is valid.",
)
@pass_app
def users_token(app: App, username: str, days: int) -> None:
    """Create an API token for USERNAME and print it (it is shown only once)."""
    try:
        with transaction(app.sessions) as session:
            token = issue_token(session, username, now=datetime.now(UTC), valid_days=days)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)


@users.command("revoke")
@click.argument("username")
@pass_app
def users_revoke(app: App, username: str) -> None:
    """Revoke every API token of USERNAME at once (the DMS or BI tool must get a new one)."""
    try:
        with transaction(app.sessions) as session:
            count = revoke_tokens(session, username, now=datetime.now(UTC))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{count} API token(s) of {username} revoked")


commands: list[click.Command] = [users]
