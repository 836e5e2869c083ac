"""Desk accounts: hashed passwords, advisor links, API tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.accounts import (
    AccountError,
    add_user,
    authenticate,
    issue_token,
    revoke_tokens,
    user_for_token,
)
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

    def test_token_expires(self, session):
        """A token stops working when its days are over."""
        from datetime import timedelta

        add_user(session, "li", "long enough pw")
        token = issue_token(session, "li", now=NOW, valid_days=30)
        assert user_for_token(session, token, now=NOW + timedelta(days=29)) is not None
        assert user_for_token(session, token, now=NOW + timedelta(days=30)) is None

    def test_revoked_tokens_stop_working(self, session):
        """`users revoke` ends every token of the user at once; others keep theirs."""
        add_user(session, "li", "long enough pw")
        add_user(session, "bi", "long enough pw")
        first, second = issue_token(session, "li", now=NOW), issue_token(session, "li", now=NOW)
        other = issue_token(session, "bi", now=NOW)
        assert revoke_tokens(session, "li", now=NOW) == 2
        assert user_for_token(session, first, now=NOW) is None
        assert user_for_token(session, second, now=NOW) is None
        assert user_for_token(session, other, now=NOW) is not None


class TestSignInWork:
    def test_unknown_and_known_names_cost_the_same(self, session, monkeypatch):
        """An unknown name checks one password hash, like a known one: no timing oracle."""
        import outreach.accounts as accounts

        add_user(session, "li", "long enough pw")
        accounts._decoy_hash()
        calls: list[str] = []
        real_check = accounts.check_password_hash
        monkeypatch.setattr(
            accounts, "check_password_hash", lambda h, p: calls.append("check") or real_check(h, p)
        )
        monkeypatch.setattr(
            accounts, "generate_password_hash", lambda p: calls.append("generate") or p
        )
        authenticate(session, "li", "wrong password", address="10.0.0.1", now=NOW)
        known = list(calls)
        calls.clear()
        authenticate(session, "nobody", "wrong password", address="10.0.0.1", now=NOW)
        assert calls == known == ["check"]
        # Both hashes use the same method and cost, so each check does the same work.
        stored = session.query(accounts.User).one().password_hash
        assert accounts._decoy_hash().split("$")[0] == stored.split("$")[0]
