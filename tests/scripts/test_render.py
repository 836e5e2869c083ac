"""Every script renders in every locale and channel, and says what the service standard asks."""

from __future__ import annotations

import dataclasses
import re

import pytest

from outreach.scripts import (
    PROACTIVE,
    ScriptError,
    ScriptNotFound,
    render,
    segments,
    sms_encoding,
    template_names,
)
from outreach.scripts.examples import NEEDS, example_context, example_reasons
from outreach.settings import DEFAULT_CONFIG, ConfigError, load_settings, parse_config

SETTINGS = load_settings({"OUTREACH_CONFIG": str(DEFAULT_CONFIG)})
ALL = template_names(SETTINGS)
SMS_NAMES = [
    "offer",
    "complaint",
    "confirmation",
    "reminder",
    "followup",
    "no_show",
    "clarify",
    "handoff",
    "slot_taken",
    "no_slots",
    "decline_ack",
    "cancelled",
    "rescheduled",
    "inbound_greeting",
    "opt_out_confirmation",
    "opt_in_confirmation",
    "help",
    "fallback_error",
    "slot_options",
    "ask_time",
    "which_option",
    "noted",
    "channel_noted",
    "answer",
    "already_booked",
    "no_appointment",
    "preference_noted",
    "wrong_number",
    "handoff_pending",
    "extra_work_noted",
    "followup_reply",
    "arrival_confirmed",
    "late_noted",
]
VOICE_NAMES = [
    "offer",
    "complaint",
    "confirmation",
    "gather_retry",
    "handoff",
    "goodbye",
    "opt_out_confirmation",
    "slot_options",
    "ask_time",
    "which_option",
    "noted",
    "channel_noted",
    "answer",
    "already_booked",
    "no_appointment",
    "preference_noted",
    "slot_taken",
    "no_slots",
    "cancelled",
    "rescheduled",
    "inbound_greeting",
    "help",
    "opt_in_confirmation",
    "wrong_number",
    "extra_work_noted",
    "followup",
    "followup_reply",
    "arrival_confirmed",
    "late_noted",
]
FOOTER = {"zh-CN": "回T退订", "en": "Reply STOP to opt out."}


def example(name, locale, channel="sms", settings=SETTINGS, **changes):
    context = {**example_context(name, locale, settings), **changes}
    return render(settings, name, locale=locale, channel=channel, **context)


class TestCatalogue:
    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    def test_every_step_has_a_script(self, locale):
        """Each conversation step the product needs has an SMS and, where spoken, a voice script."""
        assert {n for loc, ch, n in ALL if (loc, ch) == (locale, "sms")} == set(SMS_NAMES)
        assert {n for loc, ch, n in ALL if (loc, ch) == (locale, "voice")} == set(VOICE_NAMES)

    def test_partials_are_not_listed(self):
        """Files starting with an underscore are partials, not scripts."""
        assert not [n for _, _, n in ALL if n.startswith("_")]


class TestEveryScript:
    @pytest.mark.parametrize(("locale", "channel", "name"), ALL)
    def test_renders_clean_text(self, locale, channel, name):
        """The example context renders to non-empty text without blank lines or stray spaces."""
        text = example(name, locale, channel)
        assert text
        assert "\n\n" not in text
        assert all(line == line.strip() for line in text.splitlines())
        assert "None" not in text and "{{" not in text and "{%" not in text
        assert not re.search(r"[.!?][A-Z]", text), "a sentence runs into the next"

    @pytest.mark.parametrize(("locale", "channel", "name"), ALL)
    def test_every_documented_variable_is_required(self, locale, channel, name):
        """Leaving out any variable the script reads fails loudly (StrictUndefined)."""
        context = example_context(name, locale, SETTINGS)
        for key in NEEDS.get(name, ()):
            partial = {k: v for k, v in context.items() if k != key}
            with pytest.raises(ScriptError, match=key):
                render(SETTINGS, name, locale=locale, channel=channel, **partial)

    @pytest.mark.parametrize(("locale", "channel", "name"), [a for a in ALL if a[1] == "voice"])
    def test_voice_has_no_sms_footer_or_line_breaks(self, locale, channel, name):
        """A voice prompt is one line and never tells the listener to reply STOP."""
        text = example(name, locale, channel)
        assert "\n" not in text
        assert FOOTER[locale] not in text


class TestOptOutFooter:
    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    @pytest.mark.parametrize("name", sorted(PROACTIVE))
    def test_campaign_sms_ends_with_opt_out(self, locale, name):
        """Every SMS the dealership sends first ends with how to opt out."""
        assert example(name, locale).endswith(FOOTER[locale])

    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    def test_help_says_how_to_opt_out(self, locale):
        """HELP answers the contact line and how to stop."""
        text = example("help", locale)
        assert ("021 5555 0100" if locale == "zh-CN" else "+86 21 5555 0100") in text
        assert ("T退订" if locale == "zh-CN" else "STOP") in text


class TestDealershipName:
    def test_each_language_names_the_dealership_as_configured(self):
        """English messages carry the all-Latin English name and address: they stay GSM-7."""
        english, chinese = example("help", "en"), example("help", "zh-CN")
        assert "Star Motors 4S" in english and "88 Zhangjiang Road" in english
        assert sms_encoding(english) == "GSM-7"
        assert "星辰汽车 Star Motors 4S" in chinese and "张江路" in chinese

    def test_without_a_name_for_the_language_the_name_is_used(self):
        one_name = dataclasses.replace(
            SETTINGS, dealership=dataclasses.replace(SETTINGS.dealership, names={}, addresses={})
        )
        english = example("help", "en", settings=one_name)
        assert "星辰汽车 Star Motors 4S" in english and "张江路" in english

    def test_names_are_read_per_language(self):
        raw = {
            "dealership": {
                "name": "星辰汽车", "names": {"en": "Star Motors"},
                "address": "张江路88号", "addresses": {"en": "88 Zhangjiang Rd"},
            }
        }  # fmt: skip
        d = parse_config(raw).dealership
        assert (d.name_in("en"), d.name_in("zh-CN")) == ("Star Motors", "星辰汽车")
        assert (d.address_in("en"), d.address_in("zh-CN")) == ("88 Zhangjiang Rd", "张江路88号")
        with pytest.raises(ConfigError, match=r"dealership\.names\.en"):
            parse_config({"dealership": {"names": {"en": 7}}})


class TestOffer:
    def test_chinese_offer_fits_three_segments(self):
        """The zh-CN offer with two merged reasons and three slots is at most three SMS parts."""
        assert segments(example("offer", "zh-CN")) <= 3

    @pytest.mark.parametrize(
        ("locale", "campaign", "says"),
        [
            ("zh-CN", "maintenance_interval", "定期保养将于12月1日到期（估算约23,600公里）"),
            ("zh-CN", "deferred_work", "“后刹车片剩余30%”宜在12月15日前处理，涉及行车安全"),
            ("zh-CN", "seasonal", "冬季检查（电瓶、防冻液、轮胎）"),
            ("zh-CN", "post_service_followup", "11月25日到店服务后需要回访"),
            ("en", "maintenance_interval", "routine service is due by 1 Dec (about 23,600 km"),
            ("en", "deferred_work", 'we noted last time ("rear brake pads (30% left)") should'),
            ("en", "seasonal", "pre-winter check (battery, antifreeze, tyres)"),
            ("en", "post_service_followup", "your visit of 25 Nov"),
        ],
    )
    def test_names_the_reason(self, locale, campaign, says):
        """The offer says why, from the campaign's facts."""
        reason = example_reasons(SETTINGS, locale)[campaign]
        assert says in example("offer", locale, reasons=[reason])

    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    def test_lists_numbered_slots_in_local_time(self, locale):
        """Slots are numbered and shown in the dealership's zone."""
        text = example("offer", locale)
        first = "1. 11月30日（周一）上午9:30" if locale == "zh-CN" else "1. Mon 30 Nov, 9:30 am"
        assert first in text.splitlines()
        assert "3. " in text

    def test_without_slots_asks_for_a_time(self):
        """With no slot to offer, the customer is asked for a time that suits them."""
        text = example("offer", "zh-CN", slots=[])
        assert "1. " not in text and "方便的到店时间" in text

    def test_voice_offer_gives_keypad_choices(self):
        """The spoken offer says which key picks which time, and that speech works too."""
        text = example("offer", "en", "voice")
        assert "Press 1 for Monday 30 November at 9:30 am" in text
        assert "say a day and time" in text
        assert "按1，11月30日（周一）上午9:30" in example("offer", "zh-CN", "voice")


CONFIRMATION_SAYS = {
        "zh-CN": ["王芳", "11月30日（周一）上午9:30", "约3小时", "¥1,580", "指定主修技师",
                  "随车文件", "随车工具", "上海市浦东新区张江路 88 号"],
        "en": ["王芳", "Mon 30 Nov, 9:30 am", "about 3 hours", "CNY 1,580",
               "designated technician", "vehicle documents and tools",
               "88 Zhangjiang Road, Pudong, Shanghai"],
}  # fmt: skip


class TestConfirmation:
    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    def test_says_what_the_standard_asks(self, locale):
        """Arrival, advisor, duration, price, designated technician, documents, tools, address."""
        text = example("confirmation", locale)
        for expected in CONFIRMATION_SAYS[locale]:
            assert expected in text

    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    @pytest.mark.parametrize("channel", ["sms", "voice"])
    def test_introduces_special_services(self, locale, channel):
        """Each of the dealership's special services in the customer's language is offered."""
        text = example("confirmation", locale, channel)
        services = SETTINGS.dealership.special_services[locale]
        assert services and all(s in text for s in services)

    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    def test_voice_says_the_essentials(self, locale):
        """The spoken confirmation names advisor, spoken price, technician and documents."""
        text = example("confirmation", locale, "voice")
        for expected in (
            ["王芳", "1,580元", "指定主修技师", "随车文件和随车工具"]
            if locale == "zh-CN"
            else ["王芳", "1,580 yuan", "designated technician", "documents and tools"]
        ):
            assert expected in text

    def test_no_special_services_no_sentence(self):
        """A dealership without special services gets no empty 'we also offer' sentence."""
        plain = dataclasses.replace(
            SETTINGS, dealership=dataclasses.replace(SETTINGS.dealership, special_services={})
        )
        assert "本店提供" not in example("confirmation", "zh-CN", settings=plain)
        assert "also offer" not in example("confirmation", "en", settings=plain)

    @pytest.mark.parametrize("locale", ["zh-CN", "en"])
    @pytest.mark.parametrize(
        ("name", "channel"),
        [("confirmation", "sms"), ("confirmation", "voice"), ("reminder", "sms"),
         ("rescheduled", "sms")],
    )  # fmt: skip
    def test_no_advisor_yet_leaves_the_name_out(self, locale, name, channel):
        """Without an assigned advisor the text drops the advisor clause instead of a blank."""
        appointment = {**example_context(name, locale, SETTINGS)["appointment"], "advisor_name": ""}
        text = example(name, locale, channel, appointment=appointment)
        assert "王芳" not in text
        assert not re.search(r"接待顾问[：。]|advisor: *$|with \.|advisor will be \.", text, re.M)
        assert not re.search(r"[.!?][A-Z]", text), "a sentence runs into the next"
        assert "王芳" in example(name, locale, channel)

    def test_job_description_per_locale(self):
        """Job descriptions given per locale show in the customer's language."""
        assert "常规保养（机油、机滤、检查）¥680" in example("confirmation", "zh-CN")
        assert "routine maintenance (oil, filter, checks): CNY 680" in example("confirmation", "en")


class TestRendering:
    def test_tz_in_context_moves_the_time(self):
        """A tz given in the context replaces the dealership's zone."""
        text = example("cancelled", "en", tz="Europe/London")
        assert "Mon 30 Nov, 1:30 am" in text

    def test_inbound_greeting_for_unknown_number(self):
        """An unknown number (customer None) gets a greeting without a name and the five needs."""
        text = example("inbound_greeting", "zh-CN", customer=None)
        assert text.startswith("您好，这里是")
        assert "5. 美容装饰" in text

    def test_none_value_refused(self):
        """A None printed into a message is an error, not the word 'None'."""
        with pytest.raises(ScriptError, match="None"):
            example("offer", "en", vehicle={"model": None, "plate": "沪A12345"})

    def test_dealership_keys_can_be_given(self):
        """Keys of a dealership dict in the context win over the configured ones."""
        assert "Branch 2" in example("help", "en", dealership={"name": "Branch 2"})

    def test_unknown_script(self):
        """An unknown name is a ScriptNotFound, which is a LookupError."""
        with pytest.raises(ScriptNotFound, match="nope"):
            render(SETTINGS, "nope", locale="zh-CN", channel="sms")
        assert issubclass(ScriptNotFound, LookupError)

    def test_voice_only_for_spoken_steps(self):
        """A script that exists only for SMS is not found for voice."""
        with pytest.raises(ScriptNotFound, match="voice"):
            render(SETTINGS, "reminder", locale="en", channel="voice", **example_context(
                "reminder", "en", SETTINGS))  # fmt: skip


class TestOverrides:
    def test_override_replaces_a_script(self, tmp_path):
        """A file in the override folder replaces the shipped script of the same path."""
        (tmp_path / "zh-CN" / "sms").mkdir(parents=True)
        (tmp_path / "zh-CN" / "sms" / "help.j2").write_text(
            "{{ dealership.name }}客服：{{ dealership.phone }}。拒收请回复R", encoding="utf-8"
        )
        settings = dataclasses.replace(SETTINGS, scripts_override_dir=tmp_path)
        assert example("help", "zh-CN", settings=settings).endswith("拒收请回复R")
        assert "START" in example("help", "en", settings=settings)  # others stay shipped

    def test_override_partial_changes_every_campaign_footer(self, tmp_path):
        """Overriding the opt-out partial changes the footer of every campaign SMS."""
        (tmp_path / "zh-CN" / "sms").mkdir(parents=True)
        (tmp_path / "zh-CN" / "sms" / "_opt_out.j2").write_text("退订回N", encoding="utf-8")
        settings = dataclasses.replace(SETTINGS, scripts_override_dir=tmp_path)
        for name in PROACTIVE:
            assert example(name, "zh-CN", settings=settings).endswith("退订回N")

    def test_missing_locale_falls_back_to_default(self, tmp_path):
        """A script only in the default locale is used for an English customer too."""
        (tmp_path / "zh-CN" / "sms").mkdir(parents=True)
        (tmp_path / "zh-CN" / "sms" / "promo.j2").write_text("{{ locale }}优惠", encoding="utf-8")
        settings = dataclasses.replace(SETTINGS, scripts_override_dir=tmp_path)
        assert render(settings, "promo", locale="en", channel="sms") == "zh-CN优惠"
        assert ("zh-CN", "sms", "promo") in template_names(settings)

    def test_existing_locale_never_falls_back(self):
        """An English script that exists is used, not the default locale's."""
        assert example("goodbye", "en", "voice").startswith("Thank you")

    def test_error_in_override_names_the_file(self, tmp_path):
        """A dealership script using an unknown variable fails with the script's path."""
        (tmp_path / "en" / "sms").mkdir(parents=True)
        (tmp_path / "en" / "sms" / "help.j2").write_text("{{ hotline }}", encoding="utf-8")
        settings = dataclasses.replace(SETTINGS, scripts_override_dir=tmp_path)
        with pytest.raises(ScriptError, match=r"en/sms/help\.j2.*hotline"):
            example("help", "en", settings=settings)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_decline_ack_says_what_was_put_on_file(locale):
    """A no with a reason ("sold the car", "already serviced") gets its own thanks; every
    variant still gives the dealership's number."""
    texts = {
        because: example("decline_ack", locale, because=because)
        for because in (None, "later", "vehicle_sold", "serviced_elsewhere")
    }
    assert len(set(texts.values())) == 4
    number = SETTINGS.dealership.phone[-4:]
    assert all(number in text.replace(" ", "") for text in texts.values())


def test_opening_hours_run_the_same_days_together():
    """Days with the same hours read as one run; a closed day in the middle breaks it."""
    from datetime import time

    from outreach.conversation.texts import opening_text

    week = {d: (time(8, 30), time(17, 30)) for d in range(5)}
    week.update({2: None, 5: (time(9), time(12)), 6: None})
    settings = dataclasses.replace(
        SETTINGS, capacity=dataclasses.replace(SETTINGS.capacity, opening_hours=week)
    )
    assert opening_text(settings, "en") == (
        "Mon-Tue 08:30-17:30, closed Wed, Thu-Fri 08:30-17:30, Sat 09:00-12:00, closed Sun"
    )
    assert opening_text(settings, "zh-CN") == (
        "周一至周二 08:30-17:30，周三休息，周四至周五 08:30-17:30，周六 09:00-12:00，周日休息"
    )


@pytest.mark.parametrize(
    ("locale", "channel", "name"), sorted(k for k in ALL if "customer" in NEEDS.get(k[2], ()))
)
def test_a_customer_with_no_name_reads_naturally(locale, channel, name):
    """Someone who texted in from an unknown number has no name yet: no script greets them with
    a dangling comma ("Thanks , …", ", you're booked", "好的，，")."""
    context = example_context(name, locale, SETTINGS)
    text = render(
        SETTINGS, name, locale=locale, channel=channel, **{**context, "customer": {"name": ""}}
    )
    assert not re.search(r"(?m)^\s*[,，]|[,，]\s*[,，]|\w\s+,|好的，，", text), text
