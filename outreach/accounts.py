"""Desk accounts: create users, check passwords, issue and resolve API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from outreach.models import ROLES, Advisor, ApiToken, User

MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """A user could not be created or found; the message says which value is wrong."""


def add_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: str = "advisor",
    display_name: str | None = None,
    advisor_code: str | None = None,
) -> User:
    """Create a desk account; an advisor account may be linked to an advisor by code."""
    username = username.strip()
    if not username:
        raise AccountError("username must not be empty")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    advisor = None
    if advisor_code:
        advisor = session.scalar(select(Advisor).where(Advisor.code == advisor_code))
        if advisor is None:
            raise AccountError(f"no advisor with code {advisor_code!r}")
    user = User(
        username=username,
        display_name=display_name or (advisor.name if advisor else username),
        role=role,
        password_hash=generate_password_hash(password),
        advisor_id=advisor.id if advisor else None,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        # Hash anyway so a wrong username costs as long as a wrong password.
        check_password_hash(generate_password_hash("x"), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, username: str, *, now: datetime) -> str:
    """Create an API token for ``username``; the plain token is returned once and never stored."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now))
    session.flush()
    return token


def user_for_token(session: Session, token: str, *, now: datetime) -> User | None:
    """The active user a bearer token belongs to (recording its use), or None."""
    if not token:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not row.user.active:
        return None
    row.last_used_at = now
    return row.user
