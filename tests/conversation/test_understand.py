"""Customer replies in Chinese and English and what they mean (a table, one row per reply)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from outreach.conversation.numerals import cn_to_int
from outreach.conversation.understand import KINDS, understand
from outreach.conversation.when import parse_when

# Wednesday 26 November 2025, 10:00 in the dealership's zone.
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 11, 26, 10, 0, tzinfo=SHANGHAI)
THU, FRI, SAT, SUN = date(2025, 11, 27), date(2025, 11, 28), date(2025, 11, 29), date(2025, 11, 30)
NEXT_MON, NEXT_TUE, NEXT_WED = date(2025, 12, 1), date(2025, 12, 2), date(2025, 12, 3)

# (reply, kind, option, preference fields, extra fields); offered 3 options unless noted.
CASES: list[tuple[str, str, int | None, dict, dict]] = [
    # choosing an offered option
    ("2", "choose_option", 2, {}, {}),
    ("1", "choose_option", 1, {}, {}),
    ("3。", "choose_option", 3, {}, {}),
    ("第二个", "choose_option", 2, {}, {}),
    ("选3", "choose_option", 3, {}, {}),
    ("第2个可以", "choose_option", 2, {}, {}),
    ("option 1", "choose_option", 1, {}, {}),
    ("the second one", "choose_option", 2, {}, {}),
    ("I'll take #2", "choose_option", 2, {}, {}),
    ("Yes the first", "choose_option", 1, {}, {}),
    ("No, the second one please", "choose_option", 2, {}, {}),
    ("Does the 3rd one still work?", "choose_option", 3, {}, {}),
    ("第一个和第二个都行", "choose_option", 1, {}, {}),
    ("2或者3都可以", "choose_option", 2, {}, {}),
    ("#3", "choose_option", 3, {}, {}),
    # proposing a time
    (
        "明天下午三点",
        "propose_time",
        None,
        {"on": THU, "part_of_day": "afternoon", "at": time(15)},
        {},
    ),
    ("周六上午可以", "propose_time", None, {"on": SAT, "part_of_day": "morning"}, {}),
    ("下周二 9:30", "propose_time", None, {"on": NEXT_TUE, "at": time(9, 30)}, {}),
    ("Tue 9am", "propose_time", None, {"on": NEXT_TUE, "at": time(9)}, {}),
    ("tomorrow afternoon", "propose_time", None, {"on": THU, "part_of_day": "afternoon"}, {}),
    ("后天", "propose_time", None, {"on": FRI}, {}),
    ("11月30日上午", "propose_time", None, {"on": SUN, "part_of_day": "morning"}, {}),
    ("12/3 14:00", "propose_time", None, {"on": NEXT_WED, "at": time(14)}, {}),
    ("这周五", "propose_time", None, {"on": FRI}, {}),
    ("next Monday morning", "propose_time", None, {"on": NEXT_MON, "part_of_day": "morning"}, {}),
    ("3点半", "propose_time", None, {"at": time(15, 30)}, {}),
    ("十点可以", "propose_time", None, {"at": time(10)}, {}),
    ("两点", "propose_time", None, {"at": time(14)}, {}),
    (
        "星期天下午两点半",
        "propose_time",
        None,
        {"on": SUN, "part_of_day": "afternoon", "at": time(14, 30)},
        {},
    ),
    ("明早9点行吗", "propose_time", None, {"on": THU, "part_of_day": "morning", "at": time(9)}, {}),
    ("明天不行，后天可以", "propose_time", None, {"on": FRI}, {}),
    ("明天不行", "propose_time", None, {"not_before": FRI}, {}),
    # An hour right after the day ("周四" is not "四十二点"; "tmrw 830" is 8:30).
    ("周四十二点", "propose_time", None, {"on": THU, "at": time(12)}, {}),
    ("星期四十点半可以吗", "propose_time", None, {"on": THU, "at": time(10, 30)}, {}),
    ("thursday 12 works", "propose_time", None, {"on": THU, "at": time(12)}, {}),
    ("tmrw 830", "propose_time", None, {"on": THU, "at": time(8, 30)}, {}),
    ("friday 5k km service", "book_request", None, {"on": FRI}, {}),
    # The comma of a thousands separator is no clause break: "at 9,950 km" is the mileage.
    ("just checked, we're at 9,950 km", "mileage", None, {}, {"mileage_km": 9950}),
    ("明天上午不行，下午可以", "propose_time", None, {"on": THU, "part_of_day": "afternoon"}, {}),
    (
        "明天不行，下午可以",
        "propose_time",
        None,
        {"not_before": FRI, "part_of_day": "afternoon"},
        {},
    ),
    ("下周", "propose_time", None, {"not_before": NEXT_MON}, {}),
    ("Dec 3 at 2pm", "propose_time", None, {"on": NEXT_WED, "at": time(14)}, {}),
    ("Friday at 4", "propose_time", None, {"on": FRI, "at": time(16)}, {}),
    ("30号下午", "propose_time", None, {"on": SUN, "part_of_day": "afternoon"}, {}),
    ("下个月3号", "propose_time", None, {"on": NEXT_WED}, {}),
    (
        "下月5号下午",
        "propose_time",
        None,
        {"on": date(2025, 12, 5), "part_of_day": "afternoon"},
        {},
    ),
    ("next month on the 5th", "propose_time", None, {"on": date(2025, 12, 5)}, {}),
    ("this weekend", "propose_time", None, {"on": SAT}, {}),
    ("中午", "propose_time", None, {"at": time(12)}, {}),
    # times in English words, as typed or as speech recognition writes them
    ("Tuesday at ten", "propose_time", None, {"on": NEXT_TUE, "at": time(10)}, {}),
    ("half past two tomorrow", "propose_time", None, {"on": THU, "at": time(14, 30)}, {}),
    ("quarter to nine on Friday", "propose_time", None, {"on": FRI, "at": time(8, 45)}, {}),
    ("ten o'clock Saturday", "propose_time", None, {"on": SAT, "at": time(10)}, {}),
    # yes / no
    ("好", "confirm", None, {}, {}),
    ("好的", "confirm", None, {}, {}),
    ("可以", "confirm", None, {}, {}),
    ("确认", "confirm", None, {}, {}),
    ("yes", "confirm", None, {}, {}),
    ("OK!", "confirm", None, {}, {}),
    ("Sure, thanks", "confirm", None, {}, {}),
    ("嗯嗯好的", "confirm", None, {}, {}),
    ("Ok cool", "confirm", None, {}, {}),
    ("um, yes", "confirm", None, {}, {}),
    ("不用了，谢谢", "decline", None, {}, {}),
    ("暂时不需要", "decline", None, {}, {}),
    ("no thanks", "decline", None, {}, {}),
    ("not now", "decline", None, {}, {}),
    ("Not interested.", "decline", None, {}, {}),
    # a no with a reason the dealership keeps: it names the service, but asks for nothing
    ("我已经保养过了", "decline", None, {}, {"because": "serviced_elsewhere"}),
    ("上个月在别的店做过了", "decline", None, {}, {"because": "serviced_elsewhere"}),
    ("刚修好了，不用了", "decline", None, {}, {"because": "serviced_elsewhere"}),
    ("Already had it serviced, thanks", "decline", None, {}, {"because": "serviced_elsewhere"}),
    ("got it done elsewhere", "decline", None, {}, {"because": "serviced_elsewhere"}),
    ("车已经卖了", "decline", None, {}, {"because": "vehicle_sold"}),
    ("我在出差，下个月回来再约", "decline", None, {}, {"because": "later"}),
    ("最近太忙了", "decline", None, {}, {"because": "later"}),
    ("I'm busy right now", "decline", None, {}, {"because": "later"}),
    ("已经换车了", "decline", None, {}, {"because": "vehicle_sold"}),
    ("I sold the car last year", "decline", None, {}, {"because": "vehicle_sold"}),
    ("The car was written off", "decline", None, {}, {"because": "vehicle_sold"}),
    ("不用了，谢谢", "decline", None, {}, {"because": None}),
    ("No I don't want it", "decline", None, {}, {}),
    # ... unless they ask for more in the same breath
    ("已经保养过了，想预约检查一下空调", "book_request", None, {}, {"need": "maintenance"}),
    # the number is not the customer's
    ("你们打错了", "wrong_number", None, {}, {}),
    ("这不是我的车", "wrong_number", None, {}, {}),
    ("Wrong number", "wrong_number", None, {}, {}),
    ("not my car, sorry", "wrong_number", None, {}, {}),
    # opt-out, opt-in, help: the carrier keywords and clear sentences
    ("STOP", "opt_out", None, {}, {}),
    ("stop", "opt_out", None, {}, {}),
    (" Stop. ", "opt_out", None, {}, {}),
    ("STOPALL", "opt_out", None, {}, {}),
    ("Unsubscribe", "opt_out", None, {}, {}),
    ("CANCEL", "opt_out", None, {}, {}),
    ("cancel!", "opt_out", None, {}, {}),
    ("END", "opt_out", None, {}, {}),
    ("quit", "opt_out", None, {}, {}),
    ("退订", "opt_out", None, {}, {}),
    ("TD", "opt_out", None, {}, {}),
    ("t", "opt_out", None, {}, {}),
    ("取消订阅", "opt_out", None, {}, {}),
    ("stop texting me", "opt_out", None, {}, {}),
    ("Please don't text me again", "opt_out", None, {}, {}),
    ("不要再发了", "opt_out", None, {}, {}),
    ("别再发短信了", "opt_out", None, {}, {}),
    ("START", "opt_in", None, {}, {}),
    ("unstop", "opt_in", None, {}, {}),
    ("HELP", "help", None, {}, {}),
    ("帮助", "help", None, {}, {}),
    # a person, please — or a complaint
    ("call me", "call_me", None, {}, {}),
    (
        "Can you call me tomorrow afternoon?",
        "call_me",
        None,
        {"on": THU, "part_of_day": "afternoon"},
        {},
    ),
    ("回电", "call_me", None, {}, {}),
    ("转人工", "call_me", None, {}, {}),
    ("打电话给我", "call_me", None, {}, {}),
    ("I want to speak to a person", "call_me", None, {}, {}),
    ("我要投诉", "complaint", None, {}, {}),
    ("服务太差了", "complaint", None, {}, {}),
    ("你们是骗子吧", "complaint", None, {}, {}),
    ("This is terrible service", "complaint", None, {}, {}),
    ("I'm really angry about the last repair", "complaint", None, {}, {}),
    # the appointment itself
    ("改期", "reschedule", None, {}, {}),
    ("换个时间", "reschedule", None, {}, {}),
    ("我要改约", "reschedule", None, {}, {}),
    ("这几个时间都不行", "reschedule", None, {}, {}),
    ("I can't make it", "reschedule", None, {}, {}),
    ("Sorry, busy that day", "reschedule", None, {}, {}),
    ("reschedule please", "reschedule", None, {}, {}),
    # in an open offer nothing is booked yet: another time named is a time proposed
    ("改到周六上午", "propose_time", None, {"on": SAT, "part_of_day": "morning"}, {}),
    (
        "can we reschedule to Friday morning?",
        "propose_time",
        None,
        {"on": FRI, "part_of_day": "morning"},
        {},
    ),
    ("取消预约", "cancel_appointment", None, {}, {}),
    ("取消", "cancel_appointment", None, {}, {}),
    ("cancel my appointment", "cancel_appointment", None, {}, {}),
    ("Cancel appointment", "cancel_appointment", None, {}, {}),
    # questions, mileage, faults
    ("多少钱？", "question", None, {}, {}),
    ("how much is it?", "question", None, {}, {}),
    ("你们地址在哪", "question", None, {}, {}),
    ("现在跑了3万2", "mileage", None, {}, {"mileage_km": 32000}),
    ("32000公里", "mileage", None, {}, {"mileage_km": 32000}),
    ("odometer 32,000 km", "mileage", None, {}, {"mileage_km": 32000}),
    ("表显两万五", "mileage", None, {}, {"mileage_km": 25000}),
    ("3.2万公里", "mileage", None, {}, {"mileage_km": 32000}),
    ("刹车软", "fault", None, {}, {"need": "repair"}),
    ("最近底盘有异响", "fault", None, {}, {"need": "repair"}),
    ("check engine light is on", "fault", None, {}, {"need": "repair"}),
    ("I'm at 45,000 km and the brakes squeak", "fault", None, {}, {"mileage_km": 45000}),
    # passive booking with a need
    ("预约保养", "book_request", None, {}, {"need": "maintenance"}),
    ("I need an appointment", "book_request", None, {}, {"need": None}),
    ("我想修车", "book_request", None, {}, {"need": "repair"}),
    # a puncture is a fault; like a booking request, it starts a repair booking
    ("轮胎扎了", "fault", None, {}, {"need": "repair"}),
    ("I need new tyres", "book_request", None, {}, {"need": "repair"}),
    ("想做个四轮定位", "book_request", None, {}, {"need": "maintenance"}),
    ("车被撞了，想修一下", "book_request", None, {}, {"need": "accident"}),
    ("想洗车打蜡", "book_request", None, {}, {"need": "detailing"}),
    ("我想咨询一下维修", "book_request", None, {}, {"need": "repair_question"}),
    (
        "I'd like to book a service next Monday morning",
        "book_request",
        None,
        {"on": NEXT_MON, "part_of_day": "morning"},
        {"need": "maintenance"},
    ),
    # answers to the confirmation's questions
    ("要指定张师傅", "technician", None, {}, {"technician": "张师傅"}),
    ("指定李师傅吧", "technician", None, {}, {"technician": "李师傅"}),
    ("I'd like Mr Zhang", "technician", None, {}, {"technician": "Mr Zhang"}),
    ("Mr. Li please", "technician", None, {}, {"technician": "Mr Li"}),
    ("不用指定", "technician", None, {}, {"technician": ""}),
    ("no preference", "technician", None, {}, {"technician": ""}),
    ("要洗车", "special_service", None, {}, {"services": ("car_wash",), "need": "detailing"}),
    ("courtesy car please", "special_service", None, {}, {"services": ("courtesy_car",)}),
    ("需要代步车", "special_service", None, {}, {"services": ("courtesy_car",)}),
    ("要洗车和代步车", "special_service", None, {}, {"services": ("car_wash", "courtesy_car")}),
    ("I'd like a car wash too", "special_service", None, {}, {"services": ("car_wash",)}),
    ("pick-up please", "special_service", None, {}, {"services": ("pickup",)}),
    # thanks: nothing to answer
    ("谢谢", "thanks", None, {}, {}),
    # after a visit, a booked visit, a first message
    ("给五星", "rating", None, {}, {"rating": 5}),
    ("发票能开公司抬头吗", "other_need", None, {}, {}),
    ("顺便做个四轮定位", "add_work", None, {}, {"need": "maintenance"}),
    ("See you then!", "thanks", None, {}, {}),
    # running late (noted on the appointment)
    ("堵车了，可能晚二十分钟到", "running_late", None, {}, {}),
    ("I'll be 15 minutes late", "running_late", None, {}, {}),
    ("我会准时到", "thanks", None, {}, {}),
    ("Thank you so much!", "thanks", None, {}, {}),
    ("收到", "thanks", None, {}, {}),
    # questions that name the service
    ("保养多少钱", "question", None, {}, {"need": "maintenance"}),
    ("How long does a service take?", "question", None, {}, {"need": "maintenance"}),
    ("几点开门", "question", None, {}, {}),
    ("我的车有召回吗", "other_need", None, {}, {}),  # a recall check: a person looks it up
    # as early as possible: the first free times ("早点" is sooner, not the morning)
    ("能早点吗", "propose_time", None, {"earliest": True}, {}),
    ("Is there anything earlier?", "propose_time", None, {"earliest": True}, {}),
    # nothing we can act on
    ("哈哈", "unknown", None, {}, {}),
    ("asdf", "unknown", None, {}, {}),
    ("👍🏻", "confirm", None, {}, {}),  # a thumbs-up is an OK: which time, then?
    ("", "unknown", None, {}, {}),
]


# The conversation state a reply of these kinds is written in (the rest: slots on offer).
_STATE = {"rating": "followup", "other_need": "none", "add_work": "booked"}


@pytest.mark.parametrize(
    ("reply", "kind", "option", "pref", "extra"), CASES, ids=[c[0] or "empty" for c in CASES]
)
def test_reply(reply: str, kind: str, option: int | None, pref: dict, extra: dict) -> None:
    """Each reply is read as the expected kind, option, preference and extra fields."""
    state = _STATE.get(kind, "offer")
    intent = understand(reply, now_local=NOW, options=3, state=state)
    assert intent.kind in KINDS
    assert (intent.kind, intent.option) == (kind, option)
    got = (
        {k: v for k, v in vars(intent.preference).items() if v is not None and v is not False}
        if intent.preference
        else {}
    )
    assert got == pref
    for name, value in extra.items():
        assert getattr(intent, name) == value, name
    assert intent.text == reply


def test_table_is_large_and_covers_every_kind() -> None:
    """The table has at least 60 replies and exercises every kind."""
    assert len(CASES) >= 60
    assert {c[1] for c in CASES} == set(KINDS)


class TestContext:
    def test_bare_number_without_an_offer_is_not_an_option(self) -> None:
        """ "2" with nothing offered is not understood."""
        assert understand("2", now_local=NOW).kind == "unknown"

    def test_number_beyond_the_offer_is_not_an_option(self) -> None:
        """ "4" when three slots were offered is not an option."""
        assert understand("4", now_local=NOW, options=3).kind != "choose_option"

    def test_one_means_yes_when_confirming(self) -> None:
        """ "1" answers yes to a yes/no question."""
        assert understand("1", now_local=NOW, confirming=True).kind == "confirm"

    def test_choice_keeps_the_mileage(self) -> None:
        """A reply that picks a slot and gives the mileage loses neither."""
        intent = understand("2, 现在32000公里", now_local=NOW, options=3)
        assert intent.mileage_km == 32000

    def test_fault_text_is_kept(self) -> None:
        """The customer's own words describing a fault are kept as the fault."""
        assert understand("刹车有点软", now_local=NOW).fault == "刹车有点软"


class TestCancelRule:
    def test_bare_cancel_is_an_opt_out(self) -> None:
        """A bare CANCEL is an opt-out even in a booked conversation, as the carrier treats it."""
        assert understand("Cancel", now_local=NOW, confirming=True).kind == "opt_out"

    def test_cancel_with_words_cancels_the_appointment(self) -> None:
        """ "cancel appointment" and 取消预约 cancel the appointment and keep the subscription."""
        assert understand("cancel the appointment", now_local=NOW).kind == "cancel_appointment"
        assert understand("取消这次预约", now_local=NOW).kind == "cancel_appointment"


class TestWhen:
    def test_past_month_day_rolls_to_next_year(self) -> None:
        """A month and day already past this year mean next year."""
        assert parse_when("3月1日", NOW) == parse_when("2026-03-01", NOW)

    def test_next_weekday_on_a_sunday_is_tomorrow_week(self) -> None:
        """下周一 said on a Sunday is the next day (weeks start on Monday)."""
        sunday = datetime(2025, 11, 30, 9, 0, tzinfo=SHANGHAI)
        pref = parse_when("下周一", sunday)
        assert pref is not None and pref.on == date(2025, 12, 1)

    def test_a_bit_sooner_is_not_one_oclock(self) -> None:
        """快一点 means sooner, not 1 pm."""
        assert parse_when("快一点", NOW) is None

    def test_chinese_numerals(self) -> None:
        """Chinese numerals read as people say them."""
        assert [cn_to_int(s) for s in ("十一", "两万五", "三千五", "二十")] == [11, 25000, 3500, 20]


@pytest.mark.parametrize(
    ("reply", "booked", "elsewhere"),
    [
        ("收到👌", "confirm", "thanks"),
        ("好的谢谢🙏", "confirm", "confirm"),
        ("好滴，知道了", "confirm", "confirm"),
        ("got it, thanks", "confirm", "confirm"),
        ("谢谢", "thanks", "thanks"),
        ("Thank you so much!", "thanks", "thanks"),
    ],
)
def test_an_acknowledged_reminder_is_a_confirmation(reply: str, booked: str, elsewhere: str):
    """After a day-before reminder, "收到" or "ok, thanks" says they are coming; a bare thank-you
    still needs nothing recorded, and outside a booking an acknowledgement stays what it was."""
    assert understand(reply, now_local=NOW, state="booked").kind == booked
    assert understand(reply, now_local=NOW, options=3, state="offer").kind == elsewhere


# The example offer of the evaluation: Wednesday noon, Thursday 8:30, Thursday noon.
OFFERED = (
    datetime(2025, 11, 26, 12, 0, tzinfo=SHANGHAI),
    datetime(2025, 11, 27, 8, 30, tzinfo=SHANGHAI),
    datetime(2025, 11, 27, 12, 0, tzinfo=SHANGHAI),
)


@pytest.mark.parametrize(
    ("reply", "kind", "option"),
    [
        ("八点半那个", "choose_option", 2),
        ("the 8:30 one works", "choose_option", 2),  # the 8 of 8:30 is no option
        ("周三那个", "choose_option", 1),
        ("Wednesday works better for me", "choose_option", 1),
        ("I'll take the later one on Thursday", "choose_option", 3),
        ("周四早点的那个", "choose_option", 2),
        ("周四那个", "propose_time", None),  # two offered on Thursday: which one is not said
        ("明天下午有空", "propose_time", None),  # a time asked for, not one pointed at
        ("周四不行，周四下午那个呢", "propose_time", None),  # a refusal: the day does not suit
        ("周五那个", "propose_time", None),  # nothing offered on Friday
        ("2", "choose_option", 2),
    ],
)
def test_an_offered_time_named_by_its_day_or_time(reply: str, kind: str, option: int | None):
    """A reply that points at one of the times shown by its day or time books that option;
    a time that fits none, or several, or that is refused, is a time asked for."""
    intent = understand(reply, now_local=NOW, options=3, state="offer", offered=OFFERED)
    assert (intent.kind, intent.option) == (kind, option)


@pytest.mark.parametrize(
    ("reply", "state", "kind", "field", "value"),
    [
        ("10/10 would come again", "followup", "rating", "rating", 5),
        ("7 out of 10", "followup", "rating", "rating", 4),
        ("一般般吧", "followup", "rating", "rating", 3),
        ("非常满意", "followup", "rating", "rating", 5),
        ("4万2", "offer", "mileage", "mileage_km", 42000),
        ("现在 mileage 大概 6w", "offer", "mileage", "mileage_km", 60000),
        ("你们这个短信咋回复啊 回数字就行？", "offer", "help", None, None),
        ("what is this number? info pls", "offer", "help", None, None),
        ("HELP 怎么用", "none", "help", None, None),
        ("顺便帮我洗个车", "booked", "special_service", "services", ("car_wash",)),
        ("顺便看看空调 有点不凉", "booked", "add_work", None, None),
        ("发动机有点抖，顺便提一下", "booked", "fault", None, None),  # a remark, no work asked
        ("noted 谢谢", "handoff", "thanks", None, None),
        ("thanks a lot", "booked", "thanks", None, None),  # the k of "thanks" is no "ok"
        ("哈喽 在吗 想给车做个保养", "none", "book_request", None, None),  # 在吗 is a greeting
        ("周日你们上班不", "none", "question", None, None),
        ("brake pads 多少钱啊", "offer", "question", "topic", "price"),
        ("之前点了退订，能重新 subscribe 吗", "none", "opt_in", None, None),
        ("价格比外面贵一倍 你们也好意思发", "offer", "complaint", None, None),
        ("You text me every week. I've told you it's serviced. Annoying.", "offer", "complaint",
         None, None),
        ("都两个小时了还没人打来", "handoff", "call_me", None, None),
        ("等过完年再弄", "offer", "decline", "because", "later"),
        ("我们自己找的路边店换的机油 就不麻烦了", "offer", "decline", "because",
         "serviced_elsewhere"),
    ],
)  # fmt: skip
def test_words_customers_use(reply: str, state: str, kind: str, field: str | None, value: object):
    """Replies written apart from the lexicon: what each means, and the slot it carries."""
    intent = understand(reply, now_local=NOW, options=3, state=state)
    assert intent.kind == kind
    if field is not None:
        assert getattr(intent, field) == value
