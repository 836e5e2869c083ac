"""SMS encoding and segment counts at their boundaries."""

from __future__ import annotations

import pytest

from outreach.scripts import measure, segments, sms_encoding, sms_units


class TestEncoding:
    def test_plain_ascii_is_gsm7(self):
        """Latin letters, digits and common punctuation fit the GSM-7 alphabet."""
        assert sms_encoding("Reply 1 to confirm, 2 to change. ¥380 @ 9:30!") == "GSM-7"

    def test_one_chinese_character_makes_ucs2(self):
        """A single Chinese character turns the whole message into UCS-2."""
        assert sms_encoding("a" * 100 + "好") == "UCS-2"

    def test_an_emoji_makes_ucs2(self):
        """An emoji is outside GSM-7."""
        assert sms_encoding("See you soon 🙂") == "UCS-2"

    def test_extended_characters_stay_gsm7(self):
        """The extension table (€ ^ { } [ ] ~ | \\) is still GSM-7."""
        assert sms_encoding("€^{}[]~|\\") == "GSM-7"


class TestGsm7Segments:
    @pytest.mark.parametrize(
        ("length", "parts"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
    )
    def test_160_then_153_per_part(self, length, parts):
        """160 septets fit one message; a longer one is cut into parts of 153."""
        assert segments("a" * length) == parts

    def test_extended_characters_count_two(self):
        """Each extension character takes two septets, so 159 letters and a euro sign are 161."""
        text = "a" * 159 + "€"
        assert sms_units(text) == 161
        assert segments(text) == 2
        assert segments("a" * 158 + "€") == 1

    def test_escape_sequence_is_never_split(self):
        """An extension character that would straddle two parts moves whole to the next part."""
        # 152 letters + "€" = 154 septets: the euro cannot sit at 153-154 of part one.
        text = "a" * 152 + "€" + "a" * 152
        assert sms_units(text) == 306
        assert segments(text) == 3


class TestUcs2Segments:
    @pytest.mark.parametrize(
        ("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
    )
    def test_70_then_67_per_part(self, length, parts):
        """70 UTF-16 units fit one message; a longer one is cut into parts of 67."""
        assert segments("好" * length) == parts

    def test_emoji_counts_two_units(self):
        """An emoji outside the Basic Multilingual Plane is a surrogate pair: two units."""
        assert sms_units("好" * 68 + "🙂") == 70
        assert segments("好" * 68 + "🙂") == 1
        assert segments("好" * 69 + "🙂") == 2

    def test_measure_line(self):
        """measure() states encoding, length and segments in the preview's words."""
        assert str(measure("好" * 71)) == "encoding: UCS-2, 71 characters, 2 segments"
