"""Desk accounts: users, throttled password checks, API tokens that expire and can be revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from outreach.models import ROLES, Advisor, ApiToken, SignInFailure, User

MIN_PASSWORD_LENGTH = 8
TOKEN_DAYS = 90  # an API token's default life; `outreach users token --days` changes it


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


class SignInLocked(Exception):
    """Too many failed sign-ins for this name or address: wait, whatever the password."""


SIGN_IN_LOCK = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


@cache
def _decoy_hash() -> str:
    # Checked when the name is unknown, so an unknown name costs exactly one hash check too.
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    address: str = "",
    now: datetime | None = None,
) -> User | None:
    """The active user with this username and password, or None.

    With ``now``, failures are counted per name and per ``address``; past the limit
    :class:`SignInLocked` is raised before any password is checked, even the right one.
    """
    name = username.strip()
    keys = (("user", _digest(name.casefold())), ("address", _digest(address)))
    if now is not None and _locked(session, keys, now=now):
        raise SignInLocked(name)
    user = session.scalar(select(User).where(User.username == name))
    stored = user.password_hash if user is not None else _decoy_hash()
    good = check_password_hash(stored, password)
    found = user if good and user is not None and user.active else None
    if now is not None:
        if found is None:
            _record_failure(session, keys, now=now)
        else:
            session.execute(
                delete(SignInFailure).where(
                    SignInFailure.scope == "user", SignInFailure.key == keys[0][1]
                )
            )
    return found


def _locked(session: Session, keys: tuple[tuple[str, str], ...], *, now: datetime) -> bool:
    limits = {"user": MAX_FAILURES_PER_USER, "address": MAX_FAILURES_PER_ADDRESS}
    for scope, key in keys:
        count = session.scalar(
            select(func.count(SignInFailure.id)).where(
                SignInFailure.scope == scope,
                SignInFailure.key == key,
                SignInFailure.at > now - SIGN_IN_LOCK,
            )
        )
        if (count or 0) >= limits[scope]:
            return True
    return False


def _record_failure(session: Session, keys: tuple[tuple[str, str], ...], *, now: datetime) -> None:
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - SIGN_IN_LOCK))
    session.add_all(SignInFailure(scope=scope, key=key, at=now) for scope, key in keys)
    session.flush()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, username: str, *, now: datetime, valid_days: int = TOKEN_DAYS
) -> str:
    """Create an API token for ``username`` valid ``valid_days``; the plain token is returned
    once and never stored."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    if valid_days < 1:
        raise AccountError(f"a token must be valid at least one day, got {valid_days}")
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
    )
    session.flush()
    return token


def revoke_tokens(session: Session, username: str, *, now: datetime) -> int:
    """Revoke every live API token of ``username``; the number revoked."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    session.flush()
    return len(rows)


def user_for_token(session: Session, token: str, *, now: datetime) -> User | None:
    """The active user a live bearer token belongs to (recording its use), or None."""
    if not token:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not row.user.active or row.revoked_at is not None:
        return None
    if row.expires_at is None or row.expires_at <= now:
        return None
    row.last_used_at = now
    return row.user
