"""Desk accounts: hashed passwords, advisor links, API tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.accounts import AccountError, add_user, authenticate, issue_token, user_for_token
from outreach.models import ApiToken
from tests.factories import make_advisor

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


class TestUsers:
    def test_password_is_hashed(self, session):
        """The stored password is a hash that still verifies."""
        user = add_user(session, "li", "long enough pw")
        assert "long enough pw" not in user.password_hash
        assert authenticate(session, "li", "long enough pw") is user
        assert authenticate(session, "li", "wrong password") is None

    def test_links_to_the_advisor(self, session):
        """--advisor links the account and takes the advisor's name for display."""
        advisor = make_advisor(session, code="ZQ", name="赵倩")
        user = add_user(session, "zq", "long enough pw", advisor_code="ZQ")
        assert (user.advisor_id, user.display_name) == (advisor.id, "赵倩")

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"advisor_code": "NOPE"}, "no advisor"),
            ({"role": "boss"}, "role"),
            ({"password": "short"}, "at least"),
        ],
    )
    def test_bad_values_are_named(self, session, kwargs, message):
        """An unknown advisor, role, or a short password is refused with a clear message."""
        values = {"password": "long enough pw", **kwargs}
        with pytest.raises(AccountError, match=message):
            add_user(session, "x", values.pop("password"), **values)

    def test_usernames_are_unique(self, session):
        """A second account with the same username is refused."""
        add_user(session, "li", "long enough pw")
        with pytest.raises(AccountError, match="already exists"):
            add_user(session, "li", "long enough pw")


class TestTokens:
    def test_token_is_stored_hashed_and_resolves(self, session):
        """Only the token's digest is stored; the plain token finds its user."""
        user = add_user(session, "li", "long enough pw")
        token = issue_token(session, "li", now=NOW)
        stored = session.query(ApiToken).one()
        assert token not in stored.token_hash
        assert user_for_token(session, token, now=NOW) is user
        assert stored.last_used_at == NOW

    def test_unknown_or_inactive_token_is_refused(self, session):
        """A wrong token, or the token of a deactivated user, resolves to nobody."""
        user = add_user(session, "li", "long enough pw")
        token = issue_token(session, "li", now=NOW)
        assert user_for_token(session, token + "x", now=NOW) is None
        user.active = False
        assert user_for_token(session, token, now=NOW) is None
