"""The understanding beyond the corpus: replies written afresh, and properties over generated
replies (an option in any wrapping, an opt-out keyword in any case or with control
characters, a complaint next to a booking slot)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach import callbacks
from outreach.conversation import flow
from outreach.conversation.normal import normalise
from outreach.conversation.understand import KINDS, RULES, understand

NOW = datetime(2025, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OFFERED = {"offer": 3, "followup": 5}

# (reply, state, intent, option / rating / reason): none of these is in the corpus.
CASES: list[tuple[str, str, str, int | str | None]] = [
    # (text, state, intent, value)
    ("嗯嗯 那就第二个吧 谢谢", "offer", "choose_option", 2),
    ("好的呀，选3", "offer", "choose_option", 3),
    ("第贰个", "offer", "choose_option", 2),
    ("２号方案", "offer", "choose_option", 2),
    ("I'd go with option three please", "offer", "choose_option", 3),
    ("ok 1st one works thx", "offer", "choose_option", 1),
    ("the third", "offer", "choose_option", 3),
    ("Lets do number 2", "offer", "choose_option", 2),
    ("last one pls", "offer", "choose_option", 3),
    ("第一個吧", "offer", "choose_option", 1),
    ("那个1号选项可以", "offer", "choose_option", 1),
    ("第二个不行", "offer", "reschedule", None),
    ("周五下午有没有空位", "offer", "propose_time", None),
    ("明天上午可不可以", "offer", "propose_time", None),
    ("下周三能不能约", "offer", "propose_time", None),
    ("后天早上8点半", "offer", "propose_time", None),
    ("sat morning?", "offer", "propose_time", None),
    ("how about thursday around 2", "offer", "propose_time", None),
    ("过两周再说吧", "offer", "decline", "later"),
    ("三个月以后再联系", "offer", "decline", "later"),
    ("maybe in a few weeks", "offer", "decline", "later"),
    ("not now, in a couple of weeks maybe", "offer", "decline", "later"),
    ("不需要 谢谢", "offer", "decline", "none"),
    ("nah I'm good", "offer", "decline", "none"),
    ("上周刚在4S店做完保养", "offer", "decline", "serviced_elsewhere"),
    ("车早就卖掉了", "offer", "decline", "vehicle_sold"),
    ("上回换的电瓶又没电了，你们到底怎么搞的", "offer", "complaint", None),
    ("去年修的变速箱还是顿挫，白花了几千块", "offer", "complaint", None),
    (
        "the brakes you replaced last month are squeaking again, not happy",
        "offer",
        "complaint",
        None,
    ),
    ("you said it was fixed but the light is back on", "offer", "complaint", None),
    ("再发我就投诉你们", "offer", "opt_out", None),
    ("請不要再發簡訊給我", "offer", "opt_out", None),
    ("pls stop texting me", "offer", "opt_out", None),
    ("REVOKE", "offer", "opt_out", None),
    ("OptOut", "booked", "opt_out", None),
    ("quit.", "followup", "opt_out", None),
    ("Ｔ", "offer", "opt_out", None),
    ("STOP\x00", "offer", "opt_out", None),
    ("stop\u200b", "none", "opt_out", None),
    ("能找个人跟我说吗", "offer", "call_me", None),
    ("can a real person call me", "offer", "call_me", None),
    ("车子开起来方向盘有点抖", "offer", "fault", None),
    ("刹车的时候吱吱响", "none", "fault", None),
    ("there's a burning smell from the engine", "none", "fault", None),
    ("my tire pressure light came on", "none", "fault", None),
    ("car shakes at high speed", "offer", "fault", None),
    ("空调出风有股焦糊味", "none", "fault", None),
    ("胎压灯亮了", "offer", "fault", None),
    ("我想开一张发票", "none", "other_need", None),
    ("可以退款吗", "none", "other_need", None),
    ("保险公司要定损报告", "none", "other_need", None),
    ("i need a receipt for my last service", "none", "other_need", None),
    ("行，到时准时过去", "booked", "confirm", None),
    ("ok see you Friday", "booked", "confirm", None),
    ("yep, still coming", "booked", "confirm", None),
    ("不去了，取消吧", "booked", "cancel_appointment", None),
    ("sorry have to cancel", "booked", "cancel_appointment", None),
    ("cancel my subscription", "booked", "opt_out", None),
    ("我考虑一下", "offer", "decline", "later"),
    ("let me think about it", "offer", "decline", "later"),
    ("刹车踩下去软软的", "offer", "fault", None),
    ("我要跟你们经理说话", "offer", "call_me", None),
    ("你们是哪家店", "offer", "help", None),  # who we are: the HELP reply names the dealership
    ("我不来了", "booked", "cancel_appointment", None),
    # "不用了" may answer "would you like a designated technician?": never a cancellation
    ("不用了，谢谢", "booked", "decline", "none"),
    ("please cancel my booking", "booked", "cancel_appointment", None),
    ("能改到下周一吗", "booked", "reschedule", None),
    ("something came up, can we move it", "booked", "reschedule", None),
    ("路上堵，晚点到", "booked", "running_late", None),
    ("running 10 mins late sorry", "booked", "running_late", None),
    ("顺便帮我换个机油", "booked", "add_work", None),
    ("can you also do an alignment", "booked", "add_work", None),
    ("给四星吧", "followup", "rating", 4),
    ("服务不错，打5分", "followup", "rating", 5),
    ("4/5, a bit slow", "followup", "rating", 4),
    ("I'd give you guys a 3", "followup", "rating", 3),
    ("three stars", "followup", "rating", 3),
    ("5分，下次保养还来你们家", "followup", "rating", 5),
    ("保养多少钱", "none", "question", None),
    ("你们周六上班吗", "none", "question", None),
    ("how long does an oil change take?", "none", "question", None),
    ("想约个保养", "none", "book_request", None),
    ("I need to book a service", "none", "book_request", None),
    ("谢谢啦", "booked", "thanks", None),
    ("thank u", "none", "thanks", None),
    # a second set, written after the lexicon was last extended
    ("就選第三個吧", "offer", "choose_option", 3),
    ("2號", "offer", "choose_option", 2),
    ("ok #3 then", "offer", "choose_option", 3),
    ("I guess the first one works", "offer", "choose_option", 1),
    ("两个都行，第一个吧", "offer", "choose_option", 1),
    ("周日上午十点半", "offer", "propose_time", None),
    ("下週一下午", "offer", "propose_time", None),
    ("what about monday 10am", "offer", "propose_time", None),
    ("any chance thursday morning?", "offer", "propose_time", None),
    ("最近手头紧，过段时间再说", "offer", "decline", "later"),
    ("已经在外面修好了", "offer", "decline", "serviced_elsewhere"),
    ("we moved away, sold the car", "offer", "decline", "vehicle_sold"),
    ("上次做完保养发动机一直响，到现在也没人管", "offer", "complaint", None),
    ("你们服务越来越差了", "offer", "complaint", None),
    ("last service was a joke", "offer", "complaint", None),
    ("you scratched my rim last time and never called", "offer", "complaint", None),
    ("别给我发这种广告了", "offer", "opt_out", None),
    ("take me off your list", "offer", "opt_out", None),
    ("STOP!!!", "booked", "opt_out", None),
    ("让你们的顾问打给我", "offer", "call_me", None),
    ("can someone ring me", "offer", "call_me", None),
    ("车子启动时有异响", "none", "fault", None),
    ("engine light flashing", "none", "fault", None),
    ("there is a weird smell inside the car", "none", "fault", None),
    ("要开增值税发票", "none", "other_need", None),
    ("我想问下退款进度", "none", "other_need", None),
    ("好的，我准时到", "booked", "confirm", None),
    ("got it, see you then", "booked", "confirm", None),
    ("取消明天的保养", "booked", "cancel_appointment", None),
    ("can we push it to next week", "booked", "reschedule", None),
    ("堵在高架上了，晚十分钟", "booked", "running_late", None),
    ("五颗星", "followup", "rating", 5),
    ("I would rate it a 4", "followup", "rating", 4),
    ("还行吧，3分", "followup", "rating", 3),
    ("谢谢你们的提醒", "offer", "thanks", None),
    ("保养一次多少钱", "none", "question", None),
    ("周日营业吗", "none", "question", None),
    ("预约下周保养", "none", "book_request", None),
    # an offered time judged too early or too late is no pick of it
    ("8点半太早了，9点半以后行不", "offer", "propose_time", None),
    ("12 is too late for me, anything after 2 tmrw?", "offer", "propose_time", None),
    # the day of the clause kept, not of the one refused
    ("明天 8:30 不行了，change 到周五吧", "booked", "reschedule", None),
    # Sichuanese (Chengdu): 晓得 = 知道, 啥子 = 什么
    ("晓得了晓得了，明天来", "booked", "confirm", None),
    ("这是啥子短信哦，我没约过啊", "offer", "help", None),
    # a rating given is kept, whatever thanks come around it
    ("谢谢关心，这次体验很好，给五分，辛苦各位师傅了", "followup", "rating", 5),
    # opt-outs said as a question, a plea, or a keyword in a sentence of its own
    ("你们能不能别老发这种推广，我要保养自己会联系", "offer", "opt_out", None),
    (
        "Can you not text me every week? I'll reach out when I need a service.",
        "offer",
        "opt_out",
        None,
    ),
    ("I've asked twice now to be removed. Third time's the charm?", "offer", "opt_out", None),
    ("Forget it. And don't bother messaging me again.", "handoff", "opt_out", None),
    ("本人从未在贵店消费，请停止骚扰", "none", "opt_out", None),
    ("Reply STOP? Fine. STOP. Happy now?", "none", "opt_out", None),
    ("好吧。退订。", "followup", "opt_out", None),
    ("你找的是陈先生吧？他早就不用这个号码了", "offer", "wrong_number", None),
    ("No. I'll book when I'm ready.", "offer", "decline", "later"),
    ("昨天在高速上水温表飙红，吓死个人", "none", "fault", None),
    # a message meant for someone else names a day and asks nothing of us
    ("爸，周末回家吃饭不", "none", "unknown", None),
    ("honey I'll be late for dinner, 7ish", "offer", "unknown", None),
    ("今天天气挺好的哈", "handoff", "unknown", None),
    # when the next service is due: a question, not a booking
    ("下次换油是什么时候啊", "followup", "question", None),
    ("when is my car due for the next service?", "none", "question", None),
    # a time said while waiting for the promised call is when to call
    ("我四点以后都在，随时打", "handoff", "call_me", None),
    ("free after 5 if that helps", "handoff", "call_me", None),
    # a grievance, a call or a service denied is none of them
    ("不是投诉哈，就想问下你们周日开不开门", "none", "question", None),
    ("没有不满意，就是想知道下次保养啥时候", "none", "question", None),
    ("no complaints, just wondering how long a brake job takes?", "none", "question", None),
    ("don't need a courtesy car, how long will it take?", "booked", "question", None),
    # a stop said as a wish, a threat or a polite request
    ("我希望以后别再收到你们任何消息", "none", "opt_out", None),
    ("再发短信我就去举报你们", "offer", "opt_out", None),
    ("I'd really appreciate it if I didn't receive these anymore", "none", "opt_out", None),
    ("happy with the car but no more surveys or texts please", "followup", "opt_out", None),
    # Cantonese: which day are you free; you said
    ("想做个保养，边日得闲？", "none", "book_request", None),
    # Wu (Shanghai, Hangzhou): 侬 你, 阿拉 我们, 覅 不要, 划脱 删掉, 明朝 明天, 下半天 下午
    ("侬帮我号码划脱好伐，阿拉覅收到了", "none", "opt_out", None),
    ("明朝下半天三点好伐", "offer", "propose_time", None),
    # a stop to the reminders is a stop
    ("不用再提醒我了，我自己有数", "offer", "opt_out", None),
    ("I don't need any more reminders, thanks", "booked", "opt_out", None),
]


@pytest.mark.parametrize(("text", "state", "intent", "value"), CASES, ids=[c[0] for c in CASES])
def test_fresh_reply(text: str, state: str, intent: str, value: int | str | None) -> None:
    """A reply written without looking at the lexicon is read as a person would read it."""
    got = understand(text, now_local=NOW, options=OFFERED.get(state, 0), state=state)
    slot = {"choose_option": got.option, "rating": got.rating}.get(intent)
    if intent == "decline":
        slot = got.because or "none"
    assert (got.kind, slot) == (intent, value), got.rule


def test_every_rule_has_a_reason_and_a_known_intent() -> None:
    """The precedence table names each rule once and says why it wins."""
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert all(r.why for r in RULES)


_FILLERS = ["", "嗯", "好的", "行吧", "那就", "ok", "um", "yeah", "嗯嗯 好"]
_POLITE = ["", "谢谢", "thx", "please", "麻烦了", "thanks"]
_SEPARATORS = [" ", "，", ", ", "。", "! "]
_CN = {1: "一", 2: "二", 3: "三"}
_EN = {1: "one", 2: "two", 3: "three"}
_ORD = {1: "first", 2: "second", 3: "third"}


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 3),
    form=st.sampled_from(["{n}", "第{cn}个", "option {en}", "the {ord} one", "{n}号选项", "选{n}"]),
    before=st.sampled_from(_FILLERS),
    after=st.sampled_from(_POLITE),
    sep=st.sampled_from(_SEPARATORS),
    width=st.booleans(),
)
def test_an_option_in_any_wrapping_is_that_option(
    n: int, form: str, before: str, after: str, sep: str, width: bool
) -> None:
    """However an offered option is wrapped in fillers and politeness, it is that option."""
    said = form.format(n=chr(0xFF10 + n) if width else n, cn=_CN[n], en=_EN[n], ord=_ORD[n])
    text = sep.join(p for p in (before, said, after) if p)
    got = understand(text, now_local=NOW, options=3, state="offer")
    assert (got.kind, got.option) == ("choose_option", n), (text, got.rule)


_KEYWORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
             "退订", "TD", "T", "R", "取消订阅"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    word=st.sampled_from(_KEYWORDS),
    case=st.sampled_from([str.upper, str.lower, str.title]),
    noise=st.lists(st.sampled_from([" ", ".", "!", "\x00", "\u200b", "\t", "\n"]), max_size=3),
    state=st.sampled_from(["none", "offer", "booked", "followup", "handoff"]),
)
def test_an_opt_out_keyword_is_honoured_in_every_state(
    word: str, case, noise: list[str], state: str
) -> None:
    """A carrier keyword opts out in every state, in any case, with control characters."""
    text = case(word) + "".join(noise)
    got = understand(text, now_local=NOW, options=OFFERED.get(state, 0), state=state)
    assert got.kind == "opt_out", repr(text)


@settings(max_examples=150, deadline=None)
@given(
    before=st.sampled_from(["Fine", "好吧", "ok", "Reply STOP?", "you again", "收到"]),
    word=st.sampled_from(["STOP", "stop", "Unsubscribe", "退订", "TD"]),
    after=st.sampled_from(["", " Happy now?", " 谢谢", " Bye.", "!!"]),
    end=st.sampled_from([".", "。", "!", "！", "?", ";"]),
    state=st.sampled_from(["none", "offer", "booked", "followup", "handoff"]),
)
def test_a_keyword_said_as_a_sentence_of_its_own_is_honoured(
    before: str, word: str, after: str, end: str, state: str
) -> None:
    """ "Fine. STOP. Happy now?": the carrier keyword stands alone as a sentence."""
    text = f"{before}{end} {word}{end}{after}"
    got = understand(text, now_local=NOW, options=OFFERED.get(state, 0), state=state)
    assert got.kind == "opt_out", repr(text)


@pytest.mark.parametrize(
    "text", ["Don't stop. Option 2", "reply stop? what does that do", "1.5h 是全部做完吗"]
)
def test_a_keyword_inside_a_sentence_is_no_stop(text: str) -> None:
    assert understand(text, now_local=NOW, options=3, state="offer").kind != "opt_out"


@settings(max_examples=100, deadline=None)
@given(
    grievance=st.sampled_from(
        [
            "上次修完还是响",
            "你们到底行不行",
            "your repair didn't fix anything",
            "我要投诉",
            "上回保养完又漏油了",
            "this is unacceptable",
        ]
    ),
    slot=st.sampled_from(["2", "明天下午三点", "Friday at 4", "预约保养", "好的"]),
    sep=st.sampled_from(["，", ", ", " "]),
    state=st.sampled_from(["offer", "booked", "followup", "none"]),
)
def test_a_complaint_outranks_any_booking_slot(
    grievance: str, slot: str, sep: str, state: str
) -> None:
    """A complaint or a reproach reaches a person whatever booking slot comes with it."""
    text = f"{slot}{sep}{grievance}"
    got = understand(text, now_local=NOW, options=OFFERED.get(state, 0), state=state)
    assert got.kind == "complaint", (text, got.rule)


def test_every_intent_handed_to_a_person_is_a_callback_reason() -> None:
    """The intents the conversation hands to a person are callback reasons with labels."""
    handed = {kind for (where, kind), handler in flow.HANDLERS.items() if handler is flow._person}
    assert handed == {"complaint", "call_me", "other_need"}
    assert all(callbacks.REASONS[k].zh and callbacks.REASONS[k].en for k in handed)


@pytest.mark.parametrize("text", ["明天有没有空", "明天可不可以", "明天能不能约"])
def test_an_a_not_a_question_asks_for_that_day(text: str) -> None:
    """ "明天有没有空" asks for tomorrow; its 没 is no refusal of tomorrow."""
    got = understand(text, now_local=NOW, options=3, state="offer")
    assert got.kind == "propose_time" and got.preference is not None
    assert (got.preference.on, got.preference.not_before) == (date(2025, 11, 27), None)


@pytest.mark.parametrize(
    ("text", "monday"),
    [("下周", date(2025, 12, 1)), ("下下周", date(2025, 12, 8)), ("两周后", date(2025, 12, 8)),
     ("next week", date(2025, 12, 1)), ("in a couple of weeks", date(2025, 12, 8))],
)  # fmt: skip
def test_a_span_in_weeks_starts_that_weeks_monday(text: str, monday: date) -> None:
    """Weeks ahead, said either way, count from the Monday of that week."""
    got = understand(text, now_local=NOW, options=3, state="offer")
    assert got.preference is not None and got.preference.not_before == monday


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=80),
    state=st.sampled_from(["none", "offer", "booked", "followup", "handoff"]),
)
def test_any_text_is_understood_without_error(text: str, state: str) -> None:
    """Whatever arrives (control characters, emoji, any script), the reply gets an intent and
    normalising twice changes nothing."""
    got = understand(text, now_local=NOW, options=OFFERED.get(state, 0), state=state)
    assert got.kind in KINDS and got.rule
    once = normalise(text)
    assert normalise(once) == once


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("明天能换成李强顾问吗", "technician"),  # the day of the visit: no other time asked
        ("Is Tom working tomorrow? I'd like him to do it", "technician"),
        ("明天下午可以吗", "reschedule"),  # the visit's day at another time: a new time
        ("can we swap to a later time tomorrow", "reschedule"),
        ("周五行不行", "reschedule"),
    ],
)
def test_the_day_of_the_visit_named_by_a_booked_customer(text: str, kind: str) -> None:
    """Booked for tomorrow (Thursday): naming tomorrow with no time asks for no other time."""
    tomorrow = NOW.date() + timedelta(days=1)
    got = understand(text, now_local=NOW, state="booked", booked_on=tomorrow)
    assert got.kind == kind, got.rule


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("周四早上那个，不过我十点要打卡", 2),
        ("the Thursday morning one, but I need to leave by 11", 2),
        ("周四中午那个吧，不过下午三点前要弄完", 3),
        ("今天中午那个，但是一点半之前得好", 1),
    ],
)
def test_a_time_said_beside_the_pick_is_no_part_of_it(text: str, option: int) -> None:
    """The clause that points at an offered time picks it: "I must clock in at ten" after
    "周四早上那个" is a constraint, never a booking at ten."""
    offered = [
        NOW.replace(hour=12),
        NOW.replace(day=27, hour=8, minute=30),
        NOW.replace(day=27, hour=12),
    ]
    got = understand(text, now_local=NOW, options=3, state="offer", offered=offered)
    assert (got.kind, got.option) == ("choose_option", option), got.rule
