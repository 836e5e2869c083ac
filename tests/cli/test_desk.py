"""``outreach users add``, ``outreach users token`` and ``outreach users revoke``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from outreach.cli import App, main
from outreach.db import make_engine, make_sessionmaker
from outreach.migrate import upgrade
from outreach.models import Advisor, ApiToken, User
from outreach.settings import DEFAULT_CONFIG


def _run(tmp_path: Path, args: list[str], input: str | None = None):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as s:
        if s.scalar(select(Advisor.id)) is None:
            s.add(Advisor(code="WF", name="王芳"))
            s.commit()
    app = App({"DATABASE_URL": url, "OUTREACH_CONFIG": str(DEFAULT_CONFIG)})
    result = CliRunner().invoke(main, args, input=input, obj=app)
    return result, make_sessionmaker(engine)


class TestUsersCommands:
    def test_add_with_password_stdin(self, tmp_path):
        """users add --password-stdin creates a linked advisor account."""
        result, sessions = _run(
            tmp_path,
            ["users", "add", "wang", "--advisor", "WF", "--password-stdin"],
            input="a long password\n",
        )
        assert result.exit_code == 0, result.output
        with sessions() as s:
            user = s.scalars(select(User)).one()
            assert (user.username, user.role, user.display_name) == ("wang", "advisor", "王芳")

    def test_add_prompts_for_the_password(self, tmp_path):
        """Without --password-stdin the password is asked for twice."""
        result, _ = _run(
            tmp_path,
            ["users", "add", "boss", "--role", "manager"],
            input="a long password\na long password\n",
        )
        assert result.exit_code == 0, result.output
        assert "boss added (manager)" in result.output

    def test_unknown_advisor_fails_clearly(self, tmp_path):
        """An unknown advisor code ends with an error naming it."""
        result, _ = _run(
            tmp_path,
            ["users", "add", "x", "--advisor", "NOPE", "--password-stdin"],
            input="a long password\n",
        )
        assert result.exit_code == 1
        assert "NOPE" in result.output

    def test_token_is_printed_once(self, tmp_path):
        """users token prints a token whose digest is stored."""
        _run(tmp_path, ["users", "add", "wang", "--password-stdin"], input="a long password\n")
        result, sessions = _run(tmp_path, ["users", "token", "wang"])
        assert result.exit_code == 0, result.output
        token = result.output.strip()
        assert len(token) >= 40
        with sessions() as s:
            assert token not in s.scalars(select(ApiToken.token_hash)).one()

    def test_revoke_ends_the_users_tokens(self, tmp_path):
        """users revoke marks every token of the user revoked and says how many."""
        _run(tmp_path, ["users", "add", "bi", "--password-stdin"], input="a long password\n")
        _run(tmp_path, ["users", "token", "bi", "--days", "7"])
        result, sessions = _run(tmp_path, ["users", "revoke", "bi"])
        assert result.exit_code == 0, result.output
        assert "1 API token(s) of bi revoked" in result.output
        with sessions() as s:
            token = s.scalars(select(ApiToken)).one()
            assert token.revoked_at is not None
            assert (token.expires_at - token.created_at).days == 7

    def test_revoke_unknown_user_fails_clearly(self, tmp_path):
        """Revoking for an unknown user name is one line naming it."""
        result, _ = _run(tmp_path, ["users", "revoke", "nobody"])
        assert result.exit_code == 1
        assert "no user 'nobody'" in result.output
