"""The CLI's error boundary: a failure the user can fix is one line and a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from outreach.cli import App, main
from outreach.db import DatabaseUnavailable, check_database, make_engine
from outreach.migrate import upgrade
from outreach.settings import DEFAULT_CONFIG

POSTGRES = os.environ.get("OUTREACH_TEST_POSTGRES_URL", "")
ROOT = Path(__file__).resolve().parents[2]

NO_SERVER = "postgresql+psycopg://x@127.0.0.1:1/x"
NO_FOLDER = "sqlite:////nonexistent/dir/x.db"


def _no_database() -> str:
    if not POSTGRES:
        pytest.skip("set OUTREACH_TEST_POSTGRES_URL to reach a server without that database")
    return POSTGRES.rsplit("/", 1)[0] + "/no_such_database_here"


def invoke(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), obj=App(env), input=stdin)


def assert_one_line(result: Result, *words: str) -> None:
    """Exit status non-zero, no traceback, exactly one non-empty line, naming ``words``."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


# Every command that reads the database, with the arguments it needs to get that far.
DATABASE_COMMANDS = [
    ("db", "upgrade"),
    ("due",),
    ("due", "--json"),
    ("campaigns", "run"),
    ("capacity",),
    ("import", "DIR"),
    ("users", "add", "anna", "--password-stdin"),
    ("users", "token", "anna"),
    ("users", "revoke", "anna"),
    ("scripts", "preview", "offer", "--customer", "C1"),
    ("dispatch", "--once"),
    ("scheduler", "--run", "holds"),
    ("scheduler",),
    ("serve", "--port", "5999"),
]


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _leaves(command, (*prefix, name))
        else:
            found.add((*prefix, name))
    return found


# Commands that never open the database (checked: they succeed with a dead one).
NO_DATABASE = {
    ("campaigns", "list"),
    ("calendar",),
    ("config", "check"),
    ("scripts", "list"),
    ("scripts", "templates"),
    ("understand",),
    ("demo",),  # its own database, --database-url
    ("eval", "replies"),  # its own scratch database
    ("eval", "train"),  # reads labelled files, writes the model
    ("simulate",),  # talks to a running server
}
# The arguments a command needs to run at all, where it has some.
ARGUMENTS = {
    ("scripts", "templates"): ("--provider", "aliyun"),
    ("understand",): ("行吧，那就2",),
    ("eval", "train"): (
        str(Path(__file__).resolve().parents[1] / "data" / "replies" / "handoff.jsonl"),
        "--out", str(Path(tempfile.gettempdir()) / "outreach-test-replies.model.json"),
    ),
}  # fmt: skip


def test_every_command_is_classified():
    """A new command must be added to one of the lists above, so the boundary covers it."""
    covered = {args[:2] if args[0] in ("db", "users", "campaigns", "scripts", "eval") else args[:1]
               for args in DATABASE_COMMANDS} | NO_DATABASE  # fmt: skip
    assert _leaves(main) == covered


@pytest.mark.parametrize("url", [NO_SERVER, NO_FOLDER, "no-database"])
@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=" ".join)
def test_unusable_database_is_one_line(url, args, tmp_path):
    """Unreachable server, missing folder, missing database: one line, what and what to do."""
    if url == "no-database":
        url = _no_database()
    args = tuple(str(tmp_path) if a == "DIR" else a for a in args)
    result = invoke({"DATABASE_URL": url}, *args, stdin="secret\n")
    assert_one_line(result, "database", url.split("://")[0])
    assert " — " in result.output  # followed by what to do


def test_unreachable_server_says_start_it():
    result = invoke({"DATABASE_URL": NO_SERVER}, "due")
    assert_one_line(result, "no database server answers there", "start PostgreSQL on 127.0.0.1:1")


def test_missing_folder_names_it():
    result = invoke({"DATABASE_URL": NO_FOLDER}, "db", "upgrade")
    assert_one_line(result, "/nonexistent/dir")


def test_missing_postgres_database_says_create_it():
    result = invoke({"DATABASE_URL": _no_database()}, "due")
    assert_one_line(result, "does not exist", "createdb no_such_database_here")


def test_not_a_url():
    assert_one_line(invoke({"DATABASE_URL": "outreach.db"}, "due"), "not a database URL")


OWN_DATABASE = {("demo",), ("eval", "replies"), ("simulate",)}


@pytest.mark.parametrize("args", sorted(NO_DATABASE - OWN_DATABASE), ids=" ".join)
def test_commands_without_a_database_do_not_need_one(args):
    result = invoke({"DATABASE_URL": NO_SERVER}, *args, *ARGUMENTS.get(args, ()))
    assert result.exit_code == 0, result.output


def test_demo_into_an_unusable_database_is_one_line(tmp_path):
    result = invoke({}, "demo", "--database-url", NO_FOLDER, "--dir", str(tmp_path / "d"))
    assert_one_line(result, "/nonexistent/dir")


def test_database_without_tables(tmp_path):
    result = invoke({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, "users", "token", "a")
    assert_one_line(result, "no tables yet", "outreach db upgrade")


class TestConfiguration:
    @pytest.mark.parametrize("args", [("due",), ("config", "check"), ("serve",), ("calendar",)])
    def test_bad_configuration_is_one_line_for_every_command(self, tmp_path, args):
        bad = tmp_path / "d.toml"
        bad.write_text('[contact_windw]\nstart = "09:00"\n', encoding="utf-8")
        result = invoke({"OUTREACH_CONFIG": str(bad)}, *args)
        assert_one_line(result, "did you mean contact_window?")

    def test_missing_file(self, tmp_path):
        result = invoke({"OUTREACH_CONFIG": str(tmp_path / "none.toml")}, "due")
        assert_one_line(result, "no such file")

    def test_gbk_file_says_save_as_utf8(self, tmp_path):
        """A file saved by a Chinese Windows editor (GBK) is named, with the fix."""
        gbk = tmp_path / "d.toml"
        gbk.write_bytes('[dealership]\nname = "星辰汽车"\n'.encode("gbk"))
        result = invoke({"OUTREACH_CONFIG": str(gbk)}, "config", "check")
        assert_one_line(result, str(gbk), "not UTF-8", "save the file as UTF-8")

    def test_a_folder_instead_of_a_file(self, tmp_path):
        assert_one_line(invoke({"OUTREACH_CONFIG": str(tmp_path)}, "due"), "is a folder")


class TestImportFile:
    def test_gbk_csv_says_save_as_utf8(self, tmp_path):
        url = f"sqlite:///{tmp_path / 'x.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        export = tmp_path / "export"
        export.mkdir()
        (export / "customers.csv").write_bytes(
            "customer_id,name,phone\nC1,王伟,13912345678\n".encode("gbk")
        )
        result = invoke({"DATABASE_URL": url}, "import", str(export), "--quiet")
        assert result.exit_code == 2
        assert "save the file as UTF-8" in result.output
        assert "Traceback" not in result.output


class TestPlainWords:
    def test_version(self):
        result = invoke({}, "--version")
        assert result.exit_code == 0
        assert result.output.strip() == "outreach 0.1.0"

    @pytest.mark.parametrize(
        ("day", "said"),
        [
            ("2026-02-30", "2026-02-30 does not exist: February 2026 has 28 days"),
            ("2028-02-30", "February 2028 has 29 days"),
            ("2026-04-31", "April 2026 has 30 days"),
            ("2026-13-01", "there is no month 13"),
            ("30/02/2026", "write it as YYYY-MM-DD"),
        ],
    )
    @pytest.mark.parametrize("command", [("due",), ("campaigns", "run"), ("capacity",)])
    def test_a_day_that_does_not_exist(self, command, day, said):
        flag = "--from" if command == ("capacity",) else "--on"
        result = invoke({"DATABASE_URL": NO_SERVER}, *command, flag, day)
        assert result.exit_code == 2
        assert said in result.output
        assert "%Y" not in result.output

    def test_a_leap_day_is_accepted(self):
        result = invoke({"DATABASE_URL": NO_SERVER}, "calendar", "--from", "2028-02-29")
        assert result.exit_code == 0
        assert "2028-02-29" in result.output

    def test_unknown_job_lists_the_jobs(self):
        result = invoke({"DATABASE_URL": NO_SERVER}, "scheduler", "--run", "nosuch")
        assert result.exit_code == 2
        assert "no job named 'nosuch'" in result.output
        for name in ("campaigns", "dispatch", "confirmations", "holds", "recovery"):
            assert name in result.output


class TestDatabaseError:
    """The exception the web app catches to show its own page."""

    def test_connecting_raises_database_unavailable(self):
        engine = make_engine(NO_FOLDER)
        with pytest.raises(DatabaseUnavailable) as caught:
            engine.connect()
        assert caught.value.problem == "no_file"
        assert caught.value.where == NO_FOLDER

    def test_password_is_hidden(self):
        with pytest.raises(DatabaseUnavailable) as caught:
            make_engine("postgresql+psycopg://u:hunter2@127.0.0.1:1/x").connect()
        assert "hunter2" not in str(caught.value)
        assert caught.value.problem == "unreachable"

    def test_check_database_wants_the_tables(self, tmp_path):
        engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
        with pytest.raises(DatabaseUnavailable) as caught:
            check_database(engine)
        assert caught.value.problem == "no_tables"
        upgrade(engine)
        check_database(engine)


def test_python_dash_m_runs_the_cli():
    """`python -m outreach.cli` is the installed command (used by the docs and the tests)."""
    done = subprocess.run(
        [sys.executable, "-m", "outreach.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OUTREACH_CONFIG": str(DEFAULT_CONFIG)},
        check=False,
    )
    assert done.stdout.strip() == "outreach 0.1.0", done.stderr


def test_tables_older_than_this_version(tmp_path):
    """A database last upgraded by an older version: one line, run db upgrade."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
    engine.dispose()
    result = invoke({"DATABASE_URL": url}, "users", "token", "anna")
    assert_one_line(result, "older than this version", "outreach db upgrade")
