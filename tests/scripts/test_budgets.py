"""What an SMS costs: a segment budget per script, English kept GSM-7, one pair of brackets."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from outreach.callbacks import REASONS
from outreach.campaigns import iter_due
from outreach.cli import App, main
from outreach.conversation.texts import render_text
from outreach.db import make_engine, make_sessionmaker, transaction
from outreach.demo_data import write_demo_files
from outreach.importer import import_directory
from outreach.migrate import upgrade
from outreach.models import Customer, Vehicle
from outreach.planning import merge
from outreach.scripts import measure, render, segment_budget, template_names
from outreach.scripts.examples import example_context, example_reasons
from outreach.scripts.filters import plate, spaced
from outreach.settings import DEFAULT_CONFIG, load_settings

SETTINGS = load_settings({"OUTREACH_CONFIG": str(DEFAULT_CONFIG)})
SMS = [(loc, name) for loc, ch, name in template_names(SETTINGS) if ch == "sms"]
DOUBLED = re.compile(r"\)\s*\(|）（")
TODAY = date(2026, 12, 3)
SLOTS = [
    {"starts_at": datetime(2026, 12, d, h, 30, tzinfo=UTC).isoformat()}
    for d, h in ((3, 5), (4, 1), (5, 4))
]


# The sample advisors are 王芳 and 张伟; a dealership writing to English customers gives them
# the names they use with those customers (a Chinese name makes an English SMS UCS-2).
LATIN = dataclasses.replace(
    SETTINGS,
    capacity=dataclasses.replace(
        SETTINGS.capacity,
        advisors=tuple(
            dataclasses.replace(a, name=f"Advisor {a.code}") for a in SETTINGS.capacity.advisors
        ),
    ),
)


def example(name: str, locale: str, settings=SETTINGS, **changes):
    context = {**example_context(name, locale, settings), **changes}
    return render(settings, name, locale=locale, channel="sms", **context)


@pytest.mark.parametrize(("locale", "name"), SMS)
def test_every_shipped_sms_fits_its_budget(locale, name):
    settings = LATIN if locale == "en" else SETTINGS
    assert measure(example(name, locale, settings)).segments <= segment_budget(name)


@pytest.mark.parametrize(("locale", "name"), SMS)
def test_no_doubled_brackets(locale, name):
    assert not DOUBLED.search(example(name, locale))


def test_the_offer_budget_is_three():
    assert segment_budget("offer") == 3


@pytest.fixture(scope="module")
def dealership(tmp_path_factory):
    """The demo's sample dealership (600 customers), imported: every due customer's offer."""
    folder: Path = tmp_path_factory.mktemp("dealership")
    engine = make_engine(f"sqlite:///{folder / 'd.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    write_demo_files(folder / "csv", today=TODAY, customers=600, seed=11)
    with transaction(sessions) as session:
        import_directory(
            session, SETTINGS, folder / "csv", now=datetime(2026, 12, 3, 2, tzinfo=UTC)
        )
    offers = []
    with sessions() as session:
        for contact in merge(iter_due(session, SETTINGS, TODAY)):
            items = [i for i in contact.items if i.campaign != "post_service_followup"]
            if not items:
                continue
            customer = session.get(Customer, items[0].customer_id)
            vehicle_id = next((i.vehicle_id for i in items if i.vehicle_id), None)
            vehicle = session.get(Vehicle, vehicle_id) if vehicle_id else None
            reasons = [
                SimpleNamespace(campaign=i.campaign, reason=i.reason, facts=i.facts) for i in items
            ]
            text = render_text(
                SETTINGS, "offer", customer=customer, channel="sms", vehicle=vehicle,
                reasons=reasons, slot_list=SLOTS,
            )  # fmt: skip
            offers.append((customer.locale, text))
    engine.dispose()
    return offers


def test_every_offer_of_the_sample_dealership_fits_three_segments(dealership):
    """Chinese and English, one reason or four across two cars: at most 3 parts."""
    assert {locale for locale, _ in dealership} == {"zh-CN", "en"}
    over = [text for _, text in dealership if measure(text).segments > 3]
    assert not over, over[:2]


def test_english_offers_of_the_sample_dealership_are_gsm7(dealership):
    """Latin names, Chinese plates: the plate loses its province character, not the encoding."""
    english = [text for locale, text in dealership if locale == "en"]
    assert english
    assert all(measure(text).encoding == "GSM-7" for text in english)


def test_no_offer_of_the_sample_dealership_doubles_brackets(dealership):
    assert not [text for _, text in dealership if DOUBLED.search(text)]


class TestBudgetKeepsTheSafetyItem:
    def _reasons(self, locale):
        examples = example_reasons(SETTINGS, locale)
        safety = {**examples["deferred_work"], "severity": "safety"}
        second = {**examples["maintenance_interval"], "overdue": True}
        return [examples["seasonal"], second, examples["maintenance_interval"], safety]

    @pytest.mark.parametrize(("locale", "more"), [("zh-CN", "另有"), ("en", "more item")])
    def test_too_many_reasons_are_counted_not_named(self, locale, more):
        text = example("offer", locale, reasons=self._reasons(locale))
        assert measure(text).segments <= 3
        assert more in text
        assert "涉及行车安全" in text if locale == "zh-CN" else "for your safety" in text

    def test_a_short_list_is_named_in_full(self):
        text = example("offer", "zh-CN")
        assert "另有" not in text

    def test_voice_is_never_cut(self):
        reasons = self._reasons("zh-CN")
        context = {**example_context("offer", "zh-CN", SETTINGS), "reasons": reasons}
        text = render(SETTINGS, "offer", locale="zh-CN", channel="voice", **context)
        assert "冬季" in text and "另有" not in text


class TestEnglishStaysGsm7:
    def test_plate_loses_the_province_character_in_english(self):
        assert plate("沪A·14490", "en") == "A14490"
        assert plate("粤B12345", "en") == "B12345"
        assert plate("ABC123", "en") == "ABC123"
        assert plate("沪A·14490", "zh-CN") == "沪A·14490"

    @pytest.mark.parametrize(("locale", "name"), [s for s in SMS if s[0] == "en"])
    def test_english_sms_is_gsm7_when_the_names_are_latin(self, locale, name):
        """Only a name written in Chinese (the customer's, the advisor's) may make it UCS-2."""
        settings = LATIN
        context = {
            **example_context(name, locale, settings),
            "vehicle": {"plate": "沪A·12345", "model": "Volkswagen Lavida"},
        }
        text = render(settings, name, locale=locale, channel="sms", **context)
        assert measure(text).encoding == "GSM-7", [c for c in text if not c.isascii()]


class TestChineseSpacing:
    def test_latin_name_before_chinese_gets_a_space(self):
        assert "星辰汽车 Star Motors 4S 提醒您" in example("offer", "zh-CN")
        assert "星辰汽车 Star Motors 4S 提醒您" in example("reminder", "zh-CN")

    def test_spaced(self):
        assert spaced("Star Motors 4S") == "Star Motors 4S "
        assert spaced("星辰汽车") == "星辰汽车"

    def test_opt_out_keeps_its_regulated_form(self):
        assert example("offer", "zh-CN").endswith("回T退订")


class TestComplaint:
    @pytest.mark.parametrize(
        ("locale", "sorry", "when"),
        [("zh-CN", "非常抱歉", "30分钟内给您回电"), ("en", "very sorry", "within 30 minutes")],
    )
    def test_apologises_and_says_when(self, locale, sorry, when):
        assert REASONS["complaint"].target_minutes == 30
        text = example("complaint", locale)
        assert sorry in text and when in text
        assert text != example("handoff", locale)

    def test_the_time_is_the_queues_target(self):
        assert "45分钟内" in example("complaint", "zh-CN", call_within=45)


class TestPreviewWarns:
    @pytest.fixture
    def db(self, tmp_path):
        url = f"sqlite:///{tmp_path / 'p.db'}"
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as session, session.begin():
            from tests.factories import make_customer, make_vehicle

            customer = make_customer(session, external_id="C1", name="Ann Lee", locale="en")
            make_vehicle(session, customer, external_id="V1", plate="沪A12345", model="Civic")
        engine.dispose()
        return url

    def _config(self, tmp_path, body: str) -> str:
        folder = tmp_path / "scripts" / "en" / "sms"
        folder.mkdir(parents=True)
        (folder / "reminder.j2").write_text(body, encoding="utf-8")
        config = tmp_path / "d.toml"
        text = DEFAULT_CONFIG.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^override_dir = .*$", f'override_dir = "{tmp_path / "scripts"}"', text)
        config.write_text(text, encoding="utf-8")
        return str(config)

    def test_an_sms_over_budget_is_warned(self, db, tmp_path):
        config = self._config(tmp_path, "Dear {{ customer.name }}, " + "blah " * 150)
        result = CliRunner().invoke(
            main,
            ["scripts", "preview", "reminder", "--customer", "C1"],
            obj=App({"DATABASE_URL": db, "OUTREACH_CONFIG": config}),
        )
        assert result.exit_code == 0, result.output
        assert "warning: 5 segments, over the budget of 3 for reminder" in result.output

    def test_within_budget_no_warning(self, db):
        result = CliRunner().invoke(
            main,
            ["scripts", "preview", "offer", "--customer", "C1"],
            obj=App({"DATABASE_URL": db}),
        )
        assert result.exit_code == 0, result.output
        assert "warning" not in result.output
        assert "encoding: GSM-7" in result.output
