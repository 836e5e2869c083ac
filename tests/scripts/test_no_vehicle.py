"""A customer with no vehicle on file (an unknown number that booked) still gets every
appointment message; the plate phrase is simply left out."""

from __future__ import annotations

import pytest

from outreach.scripts import render
from outreach.scripts.examples import example_context
from outreach.settings import DEFAULT_CONFIG, load_settings

SETTINGS = load_settings({"OUTREACH_CONFIG": str(DEFAULT_CONFIG)})
CASES = [
    (locale, channel, name)
    for locale in ("zh-CN", "en")
    for channel, names in (
        ("sms", ("confirmation", "reminder", "followup", "no_show")),
        ("voice", ("confirmation",)),
    )
    for name in names
]


def _render(locale: str, channel: str, name: str, vehicle: object) -> str:
    context = {**example_context(name, locale, SETTINGS), "vehicle": vehicle}
    return render(SETTINGS, name, locale=locale, channel=channel, **context)


class TestNoVehicle:
    @pytest.mark.parametrize(("locale", "channel", "name"), CASES)
    def test_renders_without_the_plate(self, locale, channel, name):
        """With ``vehicle`` None the script renders, with no plate, model or "None"."""
        text = _render(locale, channel, name, None)
        assert text and "None" not in text
        assert "沪A12345" not in text and "Lavida" not in text and "朗逸" not in text

    @pytest.mark.parametrize(("locale", "channel", "name"), CASES)
    def test_names_the_vehicle_when_known(self, locale, channel, name):
        """With a vehicle the script still names it (plate in SMS, model on a call)."""
        vehicle = {"plate": "沪B99999", "model": "Passat"}
        text = _render(locale, channel, name, vehicle)
        # English SMS show the plate without the province character (GSM-7, see filters.plate).
        shown = {"voice": "Passat", "sms": "沪B99999" if locale == "zh-CN" else "B99999"}
        assert shown[channel] in text

    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    def test_sentences_stay_whole(self, locale):
        """Leaving the plate out keeps the reminder a grammatical sentence."""
        text = _render(locale, "sms", "reminder", None)
        assert ("您已预约" if locale == "zh-CN" else "you are booked for") in text
