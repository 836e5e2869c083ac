"""What a customer's reply means: one :class:`Intent` per message, Chinese or English.

Rules, not a model: the vocabulary is small (a booking conversation), and every decision can be
read and tested.  The order of the checks is the policy, most binding first:

1. opt-out keywords and sentences, START/UNSTOP, HELP — the law and the carrier come first;
2. a complaint or an angry reply — always a person;
3. cancel the appointment, reschedule, "call me";
4. the answer to the confirmation's questions: a designated technician ("要指定张师傅",
   "I'd like Mr Zhang", "不用指定") or a special service asked for on its own ("要洗车",
   "courtesy car please");
5. an option number, a fault, "wrong number", a reason the offer does not apply ("already
   serviced", "sold the car"), mileage, a time, "no thanks", "yes", a booking request,
   a question; anything else is ``unknown``.

**Reasons.**  "我已经保养过了" / "already had it serviced" and "车卖了" / "I sold the car" are a
"no thanks" with a reason (``because`` "serviced_elsewhere" or "vehicle_sold"), not a booking
request because they name the service; "打错了" / "wrong number" is its own kind: the number is
not the customer's.

**CANCEL.**  The bare keyword ``CANCEL`` (alone in the message, any case or punctuation) is
*always* an opt-out, as it is for the carriers and Twilio, which block the sender on it; we
never disagree with the carrier's block.  Cancelling an appointment takes words:
"cancel my appointment", "cancel appointment", "取消预约" (or a bare "取消", which is not a
carrier keyword) — and the confirmation texts say so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from outreach.conversation.numerals import arabic_wan, cn_to_int
from outreach.conversation.when import normalize, parse_when
from outreach.preferences import SlotPreference

KINDS = (
    "choose_option",
    "propose_time",
    "confirm",
    "decline",
    "opt_out",
    "opt_in",
    "help",
    "call_me",
    "complaint",
    "reschedule",
    "cancel_appointment",
    "question",
    "mileage",
    "fault",
    "wrong_number",
    "thanks",
    "running_late",
    "book_request",
    "technician",
    "special_service",
    "unknown",
)
# Special services a customer can ask for by name: code → pattern (on the normalised text).
SERVICES = {
    "car_wash": r"(?:免费)?洗车|(?:free )?car ?wash|(?:a )?wash",
    "courtesy_car": r"代步车|备用车|courtesy car|loan car|loaner|replacement car",
    "pickup": r"(?:上门)?(?:取送车|接送车?)|pick-?up(?: and (?:drop-?off|delivery))?|collection",
}
NEEDS = ("maintenance", "repair_question", "accident", "repair", "detailing")

# Whole-message keywords, compared after dropping spaces and punctuation, upper-cased.
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD", "T", "取消订阅"}
    | {"R"}  # "拒收请回复R": the opt-out line of Chinese marketing texts (推广短信)
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES START", "订阅", "恢复订阅"})
HELP_KEYWORDS = frozenset({"HELP", "INFO", "帮助", "求助"})


@dataclass(frozen=True)
class Intent:
    """One reply, understood.  Fields other than ``kind`` are filled whenever the text has them,
    so a reply that picks option 2 *and* gives the mileage loses neither."""

    kind: str
    text: str = ""
    option: int | None = None
    preference: SlotPreference | None = None
    mileage_km: int | None = None
    fault: str | None = None
    need: str | None = None
    technician: str | None = None  # a name; "" when the customer wants no one in particular
    services: tuple[str, ...] = ()  # codes from SERVICES
    because: str | None = None  # why a "no thanks": a key of DECLINE_REASONS


def _any(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words))


_OPT_OUT_SENTENCE = _any(
    r"退订",
    r"取消订阅",
    r"(?:不要|别|不用)再?(?:给我)?(?:发|打|联系|骚扰)",
    r"再(?:发|打)(?:短信|电话)?(?:就)?投诉",
    r"\bstop (?:texting|messaging|sending|contacting|calling|the messages|these)",
    r"\b(?:don'?t|do not|never) (?:text|message|contact|call) me",
    r"\bunsubscribe me\b",
    r"\bremove me from\b",
    r"\bopt(?: me)? out\b",
    r"^(?:please |pls )?stop(?: it| now| please| pls)?$",
)
_COMPLAINT = _any(
    r"投诉",
    r"太差",
    r"差劲",
    r"垃圾",
    r"骗子",
    r"骗人",
    r"坑人",
    r"忽悠",
    r"生气",
    r"气死",
    r"烦死",
    r"愤怒",
    r"态度(?:太)?差",
    r"不满意",
    r"曝光",
    r"12315",
    r"消协",
    r"滚",
    r"什么破",
    r"搞什么",
    r"\bterrible\b",
    r"\bawful\b",
    r"\bangry\b",
    r"\bfurious\b",
    r"\bcomplain",
    r"\bscam",
    r"\brip-?off\b",
    r"\bworst\b",
    r"\bunacceptable\b",
    r"\bridiculous\b",
    r"\bdisgust",
    r"\blawyer\b",
    r"\bsue\b",
    r"\bf+u+c+k",
    r"\bshit\b",
    r"\bwtf\b",
)
_CANCEL_APPT = _any(
    r"取消(?:这次|我的|这个|那个)?(?:预约|保养|维修|服务)",
    r"(?:预约|保养)(?:先)?取消",
    r"^取消(?:吧|了|掉)?$",
    r"\bcancel (?:my |the |this |our )?(?:appointment|appt|booking|service|visit|it)\b",
    r"\bcancel appointment\b",
)
_RESCHEDULE = _any(
    r"改期",
    r"改约",
    r"改(?:个)?时间",
    r"换(?:个|一个)?时间",
    r"换(?:一)?天",
    r"改到",
    r"改成",
    r"推迟",
    r"延期",
    r"往后推",
    r"提前到",
    r"\breschedul",
    r"\bpostpone\b",
    r"\bmove (?:my |the )?(?:appointment|booking|it)\b",
    r"\bchange (?:my |the )?(?:appointment|booking|time|date|day)\b",
    r"\b(?:another|a different|other) (?:time|day|date)\b",
    r"(?:这|那)(?:几个|些|个)?(?:时间|时段|天)(?:都)?(?:不行|没空|不方便|来不了|不合适)",
    r"都不(?:行|合适|方便)",
    r"(?:来|去)不了",
    r"\bcan'?t make (?:it|that|those|them|any)",
    r"\b(?:none|neither) of (?:these|those|them|the times)",
    r"\b(?:busy|not free|not available|unavailable|away) (?:then|that day|on that|at th)",
)
_CALL_ME = _any(
    r"回电",
    r"回个电话",
    r"打(?:个)?电话给我",
    r"给我打(?:个)?电话",
    r"电话联系",
    r"来电",
    r"人工",
    r"真人",
    r"客服",
    r"\bcall me\b",
    r"\bgive me a (?:call|ring)\b",
    r"\bphone me\b",
    r"\b(?:real |a )?(?:person|human|agent|someone)\b.*\b(?:talk|speak)|"
    r"\b(?:talk|speak) (?:to|with) (?:a |someone|somebody|an? )",
)
_OPTION = re.compile(
    r"^(?:选|选择|要|就|我选|option|no\.?|number|#)?\s*"
    r"(?:第\s*)?([1-9]|[一二三四五六七八九])\s*"
    r"(?:个|号方案|方案|个时间|号)?\s*(?:吧|好了|可以|行|please|pls|thanks|谢谢)?[.!。!]?$"
)
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
# "I'll take #2", "yes the first", "no, the second one please", "does the 2nd one still work?"
_OPTION_EN = re.compile(
    r"^(?:(?:yes|yeah|yep|ok|okay|sure|no|nope)[,.!]?\s*)?"
    r"(?:(?:i'?ll|i will|i'?d|i would|let'?s|can i|could i|i|does|would|will)\s+)?"
    r"(?:(?:take|go with|do|have|like|want|choose|pick|book|prefer)\s+)?"
    r"(?:the\s+)?(?:#|number\s*|option\s*|no\.\s*)?"
    r"(first|second|third|1st|2nd|3rd|[1-9])"
    r"(?:\s+(?:one|option|slot|time))?"
    r"(?:[,]?\s*(?:please|pls|thanks|thank you|works(?: for me)?|still works?|is fine|is good|"
    r"is ok|sounds good|would work|will work|will do))?\s*[.!?]*$"
)
# "第一个和第二个都行", "1或者2都可以": either will do, so the first one named.
_OPTION_EITHER = re.compile(
    r"^(?:第)?([1-9一二三])(?:个)?\s*(?:和|或者|或|跟|、|/|,|，)\s*(?:第)?[1-9一二三](?:个)?"
    r"\s*(?:都|也)?(?:行|可以|好|ok)?(?:的|啊|吧)?[。.!]*$"
)
_MILEAGE = [
    re.compile(r"(\d{3,7})\s*(?:公里|km|kms|kilomet(?:er|re)s?)"),
    re.compile(r"(?:里程|表显|跑了|开了|odometer|mileage|odo)\D{0,8}?(\d{3,7})"),
    re.compile(r"(\d{3,7})\s*(?:miles?|mi)\b"),
]
_CN_MILEAGE = re.compile(
    r"(?:跑了|开了|里程|表显)?([一二两三四五六七八九十百千万]+)\s*(?:公里|km)?"
)
_FAULT = _any(
    r"异响",
    r"响声",
    r"噪音",
    r"有声音",
    r"咯吱",
    r"刹车(?:有点|很|太)?(?:软|硬|不灵|异响|抖|响|失灵)",
    r"方向盘(?:抖|偏|重)",
    r"抖动",
    r"发抖",
    r"故障灯",
    r"发动机灯",
    r"(?:灯|黄灯|红灯)亮",
    r"亮(?:了)?(?:个)?(?:灯|黄灯|红灯)",
    r"漏油",
    r"漏水",
    r"冒(?:烟|白烟|黑烟)",
    r"打不着",
    r"启动困难",
    r"熄火",
    r"跑偏",
    r"胎压",
    r"爆胎",
    r"空调不(?:凉|制冷|冷)",
    r"油耗(?:太|很|特别)?高",
    r"异味",
    r"没电",
    r"亏电",
    r"\bnoise",
    r"\bsqueak",
    r"\bsqueal",
    r"\bgrind",
    r"\brattl",
    r"\bvibrat",
    r"\bshak(?:e|es|ing)\b",
    r"\bcheck engine\b",
    r"\b(?:warning|engine|dash|abs|tpms) ?light",
    r"\bleak",
    r"\bsmok(?:e|ing)\b",
    r"\bwon'?t start\b",
    r"\bpulls? to\b",
    r"\bbrakes? (?:feel |are |is )?(?:soft|spongy|squeak|grind|weak)",
    r"\boverheat",
    r"\b(?:ac|a/c|air con)\w* (?:not|isn'?t|doesn'?t) (?:cold|cool|work)",
    r"\bbattery (?:is )?(?:dead|flat)",
    r"\bflat tyre|\bflat tire",
)
_DECLINE = _any(
    r"不用了",
    r"^不用",
    r"不需要",
    r"^不要了?$",
    r"^不了",
    r"暂时不",
    r"先不",
    r"以后再说",
    r"下次再说",
    r"^再说吧",
    r"算了",
    r"不去了",
    r"不感兴趣",
    r"没兴趣",
    r"\bno thanks?\b",
    r"\bno,? thank you\b",
    r"\bnot now\b",
    r"\bnot interested\b",
    r"^no\.?$",
    r"^nope\.?$",
    r"^nah\.?$",
    r"\bmaybe later\b",
    r"\bnot at (?:this|the moment)",
    r"\bdon'?t need\b",
    r"\b(?:i )?don'?t want (?:it|to|that|this|one|any)\b",
    r"不想(?:约|去|来|做)?了",
    r"\bi'?m good\b",
    r"\bno need\b",
)
_WRONG_NUMBER = _any(
    r"打错(?:了|电话|人)?",
    r"发错(?:了|人|号)",
    r"找错人",
    r"不是我的车",
    r"我(?:没有|没)(?:车|买车)",
    r"我不是\S{0,4}车主",
    r"(?:号码|电话)(?:错了|不对)",
    r"\bwrong (?:number|person|guy|phone)\b",
    r"\bnot my (?:car|vehicle)\b",
    r"\bi don'?t (?:have|own) a (?:car|vehicle)\b",
)
# A "no thanks" with a reason the dealership keeps: reason → what the customer says.
DECLINE_REASONS = {
    "serviced_elsewhere": _any(
        r"(?:已经|早就|刚|才|上周|上个月|前几天|前段时间|最近)\S{0,6}(?:保养|做|修|换)(?:过|完|好)了?",
        r"(?:保养|做)过了",
        r"(?:在|去)(?:别[的家处]|其他|其它|外面|别人)\S{0,6}(?:保养|做|修)(?:过|了)",
        r"\balready (?:had|got|did|done|serviced|have had|been serviced)\b",
        r"\b(?:serviced|done|fixed|did it|had it done) (?:elsewhere|somewhere else|at another)",
        r"\bjust (?:had|got) (?:it |my car |the car )?(?:serviced|done|fixed)",
        r"\b(?:had|got) (?:it|the car|my car) (?:serviced|done|fixed)\b",
    ),
    "later": _any(
        r"(?:过|等)(?:两|几|一段时间|段时间)天?再(?:说|约|联系)",
        r"有空(?:了)?再(?:联系|约|说)",
        r"回来(?:了)?再(?:约|说|联系)",
        r"(?:现在|最近|这段时间|这阵子|这几天|这个月)(?:都|比较|有点)?(?:没空|没时间|很忙|太忙|忙)",
        r"^下(?:个)?月(?:吧|再说|再约)?[。!]?$",
        r"\b(?:i'?m |i am )?(?:too |really |very )?busy(?: (?:right now|at the moment|these days|"
        r"lately|this month))?[.!]?$",
        r"\b(?:next month|in a few weeks|some other time)\b",
        r"\b(?:i'?ll|i will) (?:get back|call|contact|text)",
    ),
    "vehicle_sold": _any(
        r"(?:车|车子)\S{0,3}(?:卖|卖掉|转让|过户|报废)了",
        r"^(?:已经)?(?:卖|卖掉|转让|过户|报废)了",
        r"(?:已经)?换车了",
        r"不开(?:这|那)?(?:辆|台)?车了",
        r"\bsold (?:the|my|that|this|our|it)\b",
        r"\b(?:car|vehicle) (?:was|is|has been|got) (?:sold|scrapped|written off|totall?ed)",
        r"\bno longer (?:have|own|drive) (?:the|that|this|a|my)\b",
        r"\bdon'?t (?:have|own) (?:the|that|this) (?:car|vehicle) any ?more\b",
    ),
}
_CONFIRM = _any(
    r"^(?:好|好的|好啊|好吧|可以|行|行的|确认|确定|没问题|嗯|对|是|是的|ok|okay|yes|yep|yeah|y|sure|"
    r"confirm|confirmed|sounds good|perfect|great|fine|that works|works for me|alright|all right|"
    r"ok(?:ay)? cool|cool|no problem|sure thing)"
    r"(?:的|啊|吧|呀|了|,? thanks?| thank you| please)?[.!。!]*$",
    r"^(?:好的?|可以|行)[,，]?(?:就这个|就这样|谢谢)",
)
_NEED = [
    (
        "accident",
        _any(
            r"事故",
            r"撞",
            r"剐蹭",
            r"刮蹭",
            r"追尾",
            r"理赔",
            r"出险",
            r"钣金",
            r"喷漆",
            r"\baccident",
            r"\bcrash",
            r"\bcollision",
            r"\bbodywork",
            r"\binsurance claim",
            r"\bdent",
            r"\bscratch",
        ),
    ),
    (
        "detailing",
        _any(
            r"美容",
            r"洗车",
            r"打蜡",
            r"镀晶",
            r"镀膜",
            r"贴膜",
            r"内饰清洗",
            r"精品",
            r"装饰",
            r"\bdetail",
            r"\bwash",
            r"\bwax",
            r"\bpolish",
            r"\btint",
            r"\bceramic",
            r"\baccessor",
        ),
    ),
    (
        "maintenance",
        _any(
            r"保养",
            r"机油",
            r"小保",
            r"大保",
            r"首保",
            r"年检",
            r"检查",
            r"四轮定位",
            r"动平衡",
            r"换(?:个)?(?:机油|机滤|空滤|雨刮|防冻液|刹车油)",
            r"\bmaintenance",
            r"\bservic",
            r"\boil change",
            r"\binspection",
            r"\bcheck-?up",
            r"\balignment",
            r"\btyre rotation|\btire rotation",
        ),
    ),
    (
        "repair",
        _any(
            r"修车",
            r"维修",
            r"修理",
            r"修一下",
            r"坏了",
            r"返修",
            r"补胎",
            r"扎(?:胎|了)",
            r"换(?:刹车片|轮胎|电瓶)",
            r"\brepair",
            r"\bfix",
            r"\bbroken",
            r"\breplace",
            r"\bpuncture",
            r"\bnew (?:tyres?|tires?|battery|brake pads?|brakes|wipers?)\b",
        ),
    ),
]
_CONSULT = _any(r"咨询", r"问一下", r"请问", r"想问", r"\bquestion", r"\bask\b", r"\?|？")
_BOOK = _any(
    r"预约",
    r"预订",
    r"预定",
    r"约(?:个|一下)?时间",
    r"安排",
    r"想(?:去|来)",
    r"\bbook",
    r"\bappointment",
    r"\bappt\b",
    r"\bschedule",
    r"\bcome in\b",
    r"\bbring (?:my|the) car\b",
)
_QUESTION = _any(
    r"\?|？",
    r"召回",
    r"\brecall",
    r"几点",
    r"营业",
    r"吗$",
    r"多少钱",
    r"价格",
    r"费用",
    r"多久",
    r"多长时间",
    r"怎么",
    r"哪里",
    r"地址",
    r"在哪",
    r"什么",
    r"能不能",
    r"可不可以",
    r"是否",
    r"有没有",
    r"^(?:how|what|when|where|why|which|who|is|are|do|does|can|could|will|would)\b",
    r"\bhow much\b",
    r"\bhow long\b",
)


def _keyword(text: str) -> str:
    """The message as a carrier sees a keyword: no spaces or punctuation, upper case."""
    return re.sub(r"[\W_]+", "", text).upper()


def understand(
    text: str, *, now_local: datetime, options: int = 0, confirming: bool = False
) -> Intent:
    """Classify one reply.

    ``options`` is how many numbered slots the customer was last offered (a bare "2" picks
    one); ``confirming`` says the last message asked a yes/no question, so "1" means yes.
    """
    norm = normalize(text)
    key = _keyword(norm)
    mileage = _mileage(norm)
    fault = text.strip() if _FAULT.search(norm) else None
    # What every intent carries, whatever its kind (Any: the values differ in type).
    base: dict[str, Any] = {"text": text, "mileage_km": mileage, "fault": fault}

    if key in OPT_OUT_KEYWORDS or _OPT_OUT_SENTENCE.search(norm):
        return Intent("opt_out", text=text)
    if key in {_keyword(k) for k in OPT_IN_KEYWORDS}:
        return Intent("opt_in", text=text)
    if key in HELP_KEYWORDS:
        return Intent("help", text=text)
    if not key:
        return Intent("unknown", text=text)
    if _COMPLAINT.search(norm):
        return Intent("complaint", **base)

    preference = parse_when(norm, now_local)
    if _EARLIER.search(norm) and (
        preference is None or (preference.on, preference.at) == (None, None)
    ):
        preference = SlotPreference(earliest=True)  # "能早点吗": sooner, not "in the morning"
    if _CANCEL_APPT.search(norm):
        return Intent("cancel_appointment", **base)
    if _RESCHEDULE.search(norm):
        return Intent("reschedule", preference=preference, **base)
    if _CALL_ME.search(norm):
        return Intent("call_me", preference=preference, **base)

    technician = _technician(text, norm)
    if technician is not None:
        return Intent("technician", technician=technician, **base)
    services = _services(norm)
    if services:
        need = "detailing" if "car_wash" in services else None
        return Intent("special_service", services=services, need=need, **base)

    option = _option(norm, options)
    if option is not None:
        if confirming and option == 1 and options <= 1:
            return Intent("confirm", **base)
        return Intent("choose_option", option=option, **base)
    if confirming and key == "1":
        return Intent("confirm", **base)

    need = _need(norm)
    if fault is not None and preference is None and not _BOOK.search(norm):
        return Intent("fault", need="repair", **base)
    if _WRONG_NUMBER.search(norm):
        return Intent("wrong_number", **base)
    because = next(
        (
            k
            for k, pattern in DECLINE_REASONS.items()
            if pattern.search(norm) and (k != "later" or preference is None)
        ),
        None,
    )
    if because is not None and (_DECLINE.search(norm) or not _BOOK.search(norm)):
        return Intent("decline", because=because, **base)
    if mileage is not None and preference is None and need is None:
        return Intent("mileage", **base)
    if _DECLINE.search(norm) and not (preference and _CONFIRM_WORDS.search(norm)):
        return Intent("decline", **base)
    if need is not None and _COST_OR_TIME.search(norm) and not _BOOK.search(norm):
        return Intent("question", need=need, **base)  # "保养多少钱": answer, then book
    if need is not None or _BOOK.search(norm):
        return Intent("book_request", preference=preference, need=need, **base)
    if preference is not None:
        return Intent("propose_time", preference=preference, **base)
    if _LATE.search(norm) and preference is None:
        return Intent("running_late", **base)
    if _CONFIRM.search(_FILLERS.sub("", norm)):
        return Intent("confirm", **base)
    if _THANKS.match(norm):
        return Intent("thanks", **base)
    if _QUESTION.search(norm):
        return Intent("question", **base)
    return Intent("unknown", **base)


# A booked customer running late: noted on the appointment.
_LATE = _any(
    r"晚(?:点|一点|一会儿?|些|几分钟|\d+分钟|[一二两三四五六七八九十]+分钟)?到",
    r"迟到",
    r"堵车",
    r"\brunning (?:a bit |a little )?late\b",
    r"\b(?:be|am|i'?m) (?:a bit |a little |\d+ (?:min(?:ute)?s? )?)?late\b",
    r"\bstuck in traffic\b",
)
# "As early as possible": the first free times ("早点" is sooner here, not the morning).
_EARLIER = _any(
    r"早(?:一)?点", r"早一些", r"更早", r"提前", r"越早越好", r"最早", r"尽快", r"尽早",
    r"\bearlier\b", r"\bsooner\b", r"\basap\b", r"\bas soon as possible\b", r"\bearliest\b",
)  # fmt: skip
# A bare "thanks" / "got it": nothing to answer (the bot never replies to a thank-you).
_THANKS = re.compile(
    r"^(?:谢谢|谢了|多谢|感谢|辛苦了|收到|知道了|明白了|了解|thanks?|thank you|thx|ty|cheers|"
    r"got it|noted|will do|great,? thanks?|see you(?: then| tomorrow| soon| there)?|"
    r"i'?ll be there(?: on time)?|will be there|(?:我)?(?:会)?准时到|到时见|明天见|不见不散)"
    r"(?:你|您|啦|了|哈|啊|呀|a lot|so much|very much|!|！|。|\.|\s)*$"
)
_COST_OR_TIME = _any(
    r"多少钱", r"价格", r"价钱", r"费用", r"报价", r"多久", r"多长时间",
    r"\bhow much\b", r"\bhow long\b", r"\bprice\b", r"\bcost\b",
)  # fmt: skip
# "嗯嗯好的", "哦，可以": the sounds before a yes (as speech recognition writes them too).
_FILLERS = re.compile(r"^(?:[嗯恩哦噢额呃]|\b(?:um+|uh+|er+|hmm+)\b)+[,，\s]*(?=.)")
_CONFIRM_WORDS = _any(r"可以", r"行", r"\bok", r"\bworks\b", r"\bfine\b", r"\bgood\b")


_NO_TECHNICIAN = _any(
    r"^(?:不用|不需要|无需|不)指定",
    r"(?:谁|哪位师傅)都(?:可以|行)",
    r"\bno (?:preference|particular (?:one|technician))\b",
    r"\b(?:any|whoever|anyone)\b.*\b(?:fine|ok|okay|is good)\b",
    r"\bdon'?t need a (?:designated |particular )?technician\b",
)
_TECHNICIAN_ZH = re.compile(
    r"(?:要|想|请|麻烦)?指定(?:主修)?(?:技师|师傅)?(?:为|是)?\s*([\u4e00-\u9fff]{1,3}?(?:师傅|工|技师))"
    r"|^(?:我)?(?:要|想要|还是|请)\s*([\u4e00-\u9fff]{1,2}师傅)(?:吧|来修|修|做)?[。!]?$"
)
_TECHNICIAN_EN = re.compile(
    r"(?:^|\b(?:i'?d like|i want|can i have|could i have|please|technician|with)\s+)"
    r"((?:mr|mrs|ms|master)\.?\s+[a-z]+)\b",
    re.IGNORECASE,
)


def _technician(text: str, norm: str) -> str | None:
    """A designated technician's name, "" for "no one in particular", None when not said."""
    if _NO_TECHNICIAN.search(norm):
        return ""
    if m := _TECHNICIAN_ZH.search(norm):
        return m[1] or m[2]
    if m := _TECHNICIAN_EN.search(unicodedata.normalize("NFKC", text)):
        title, name = re.split(r"\.?\s+", m[1], maxsplit=1)
        return f"{title.capitalize()} {name.capitalize()}"
    return None


_SERVICE_WRAP = (
    r"^(?:还|也|另外|那|好的?[,，]?)?(?:要|需要|想要|帮我|请|麻烦)?(?:安排|提供|准备)?(?:一下|一个|个)?"
    r"(?:and |also |yes,? |oh,? )?(?:i'?d like |i want |i'?ll need |can i (?:get|have) |"
    r"could i (?:get|have) |please )?(?:a |the )?"
    r"(?:{services})"
    r"(?:服务)?(?:吧|一下|谢谢|,? please| please| too| as well| thanks| thank you)*[.!。!]?$"
)


def _services(norm: str) -> tuple[str, ...]:
    """Special services asked for on their own ("要洗车", "courtesy car please")."""
    wanted = tuple(code for code, words in SERVICES.items() if re.search(words, norm))
    if not wanted:
        return ()
    pattern = _SERVICE_WRAP.format(services="|".join(SERVICES.values()))
    parts = re.split(r"(?:[,，、和]|\band\b)\s*(?:还要|要|a |the )?", norm)
    if re.fullmatch(pattern, norm) or all(
        re.fullmatch(pattern, p.strip()) for p in parts if p.strip()
    ):
        return wanted
    return ()


def _option(norm: str, options: int) -> int | None:
    if options <= 0:
        return None
    n: int | None = None
    if m := _OPTION.match(norm) or _OPTION_EITHER.match(norm):
        n = cn_to_int(m[1])
    elif m := _OPTION_EN.match(norm):
        n = _ORDINALS.get(m[1]) or int(m[1])
    return n if n is not None and 1 <= n <= options else None


def _mileage(norm: str) -> int | None:
    text = arabic_wan(norm).replace(",", "")
    for n, pattern in enumerate(_MILEAGE):
        if m := pattern.search(text):
            km = int(m[1])
            return round(km * 1.609344) if n == 2 else km
    if "万" in text or "公里" in text or re.search(r"跑了|开了|里程|表显", text):
        for m in _CN_MILEAGE.finditer(text):
            value = cn_to_int(m[1])
            if value is not None and value >= 100:
                return value
    return None


def _need(norm: str) -> str | None:
    for need, pattern in _NEED:
        if pattern.search(norm):
            # "I'd like to ask about a repair" wants an answer before a slot.
            return "repair_question" if need == "repair" and _CONSULT.search(norm) else need
    return None
