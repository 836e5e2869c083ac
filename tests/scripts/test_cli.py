"""The ``scripts list`` and ``scripts preview`` commands on a SQLite file."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from outreach.cli import App, main
from outreach.db import make_engine
from outreach.migrate import upgrade
from tests.factories import make_customer, make_vehicle

ENCODING_LINE = re.compile(r"^encoding: (GSM-7|UCS-2), \d+ characters, \d+ segments$")


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'scripts.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        zh = make_customer(session, external_id="C1", name="韩梅梅", locale="zh-CN")
        make_vehicle(session, zh, external_id="V1", plate="京B88888", model="丰田卡罗拉")
        en = make_customer(session, external_id="C2", name="Ann Lee", locale="en")
        make_vehicle(session, en, external_id="V2", plate="ABC123", model="Honda Civic")
    engine.dispose()
    return url


def invoke(url, *args, **environ):
    return CliRunner().invoke(main, list(args), obj=App({"DATABASE_URL": url, **environ}))


class TestPreview:
    def test_uses_the_customers_name_vehicle_and_locale(self, db):
        """The offer is rendered in the customer's language with their name and plate."""
        result = invoke(db, "scripts", "preview", "offer", "--customer", "C1")
        assert result.exit_code == 0, result.output
        assert "韩梅梅您好" in result.output
        assert "京B88888（丰田卡罗拉）" in result.output
        assert "回T退订" in result.output

    def test_ends_with_encoding_and_segments(self, db):
        """The last line states the SMS encoding, length and segment count."""
        result = invoke(db, "scripts", "preview", "reminder", "--customer", "C1")
        last = result.output.strip().splitlines()[-1]
        assert ENCODING_LINE.match(last), last
        assert last.startswith("encoding: UCS-2")

    def test_locale_option_overrides(self, db):
        """--locale renders in another language than the customer's own."""
        result = invoke(db, "scripts", "preview", "offer", "--customer", "C1", "--locale", "en")
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Hello 韩梅梅")

    def test_english_customer_with_gsm_text(self, db):
        """An English text with no Chinese in it is counted as GSM-7."""
        result = invoke(db, "scripts", "preview", "decline_ack", "--customer", "C2")
        assert result.exit_code == 0, result.output
        assert "Ann Lee" in result.output
        assert result.output.strip().splitlines()[-1].startswith("encoding: GSM-7")

    def test_voice_channel(self, db):
        """--channel voice renders the spoken prompt."""
        result = invoke(db, "scripts", "preview", "offer", "--customer", "C2", "--channel", "voice")
        assert result.exit_code == 0, result.output
        assert "Press 1 for" in result.output
        assert result.output.strip().splitlines()[-1].startswith("voice prompt:")

    def test_unknown_template(self, db):
        """An unknown script name is a usage error listing the known ones."""
        result = invoke(db, "scripts", "preview", "nope", "--customer", "C1")
        assert result.exit_code == 2
        assert "no sms script named 'nope'" in result.output
        assert "confirmation" in result.output

    def test_sms_only_script_on_voice(self, db):
        """A script that has no voice version is refused for --channel voice."""
        result = invoke(
            db, "scripts", "preview", "reminder", "--customer", "C1", "--channel", "voice"
        )
        assert result.exit_code == 2
        assert "no voice script named 'reminder'" in result.output

    def test_unknown_customer(self, db):
        """An unknown customer id is an error naming the id."""
        result = invoke(db, "scripts", "preview", "offer", "--customer", "C999")
        assert result.exit_code == 1
        assert "no customer with id 'C999'" in result.output


class TestList:
    def test_lists_every_script(self, db):
        """Every locale, channel and name appears, one per line."""
        result = invoke(db, "scripts", "list")
        assert result.exit_code == 0, result.output
        lines = [line.split() for line in result.output.splitlines()]
        assert ["zh-CN", "sms", "confirmation"] in lines
        assert ["en", "voice", "gather_retry"] in lines

    def test_marks_overrides(self, db, tmp_path):
        """Scripts replaced by the dealership's folder are marked (override)."""
        override = tmp_path / "mine"
        (override / "en" / "sms").mkdir(parents=True)
        (override / "en" / "sms" / "help.j2").write_text("Call us.", encoding="utf-8")
        config = tmp_path / "dealership.toml"
        config.write_text(f'[scripts]\noverride_dir = "{override}"\n', encoding="utf-8")
        result = invoke(db, "scripts", "list", OUTREACH_CONFIG=str(config))
        assert result.exit_code == 0, result.output
        assert "help  (override)" in result.output
        assert "zh-CN  sms    help\n" in result.output
