"""People who sign in to the advisors' desk, and the API tokens a DMS or BI tool uses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.db import Base, utcnow
from outreach.models.customers import Advisor, _in

ROLES = ("advisor", "manager")
SIGN_IN_SCOPES = ("user", "address")


class User(Base):
    """A desk account; the password is stored only as a werkzeug hash."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="user_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(12), default="advisor")
    password_hash: Mapped[str] = mapped_column(String(255))
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    advisor: Mapped[Advisor | None] = relationship()


class ApiToken(Base):
    """A bearer token for ``/api/*``; only its SHA-256 is stored: a leaked table grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    # A token ends: at its expiry, or when `outreach users revoke` revokes it.
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class SignInFailure(Base):
    """A failed desk sign-in, counted per user name and per address to slow down guessing.

    ``key`` is the SHA-256 of the name or address, so a table of guesses holds no passwords typed
    into the name field; rows older than the lock window are deleted as new ones arrive.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        CheckConstraint(_in("scope", SIGN_IN_SCOPES), name="sign_in_failure_scope"),
        Index("ix_sign_in_failures_lookup", "scope", "key", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
