"""The desk's words in Chinese and English: one dict, a ``t(key)`` template function."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, session

from desk.context import settings
from outreach.callbacks import REASONS

LANGUAGES = {"zh-CN": "中文", "en": "English"}

# key: (zh-CN, en)
MESSAGES: dict[str, tuple[str, str]] = {
    "app_title": ("服务顾问工作台", "Advisors' desk"),
    "queue": ("回电队列", "Callback queue"),
    "board": ("预约看板", "Appointment board"),
    "stats": ("活动效果", "Campaign results"),
    "simulator": ("手机模拟器", "Phone simulator"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong username or password"),
    "signed_out": ("已退出", "Signed out"),
    "sign_in_locked": (
        "登录失败次数过多，请15分钟后再试",
        "Too many failed sign-ins: try again in 15 minutes",
    ),
    "customer": ("客户", "Customer"),
    "phone": ("电话", "Phone"),
    "reason": ("原因", "Reason"),
    "priority": ("优先级", "Priority"),
    "age": ("等待", "Waiting"),
    "target": ("目标响应", "Target"),
    "overdue": ("已超时", "overdue"),
    "status": ("状态", "Status"),
    "claimed_by": ("认领人", "Claimed by"),
    "claim": ("认领", "Claim"),
    "claimed": ("已认领", "Claimed"),
    "claim_lost": ("已被其他顾问认领", "Another advisor claimed it first"),
    "open": ("待处理", "open"),
    "done": ("已完成", "done"),
    "queue_empty": ("队列为空", "Nobody is waiting"),
    "call_again_later": ("稍后回电", "Call again later"),
    "details": ("详情", "Details"),
    "detail": ("说明", "Detail"),
    "transcript": ("沟通记录", "Transcript"),
    "no_transcript": ("暂无记录", "No messages yet"),
    "customer_file": ("客户档案", "Customer file"),
    "vehicle": ("车辆", "Vehicle"),
    "last_visits": ("最近来店", "Last visits"),
    "deferred_work": ("遗留项目", "Deferred work"),
    "due_by": ("建议完成日期", "Due by"),
    "no_visits": ("无来店记录", "No visits"),
    "no_deferred": ("无遗留项目", "Nothing deferred"),
    "outcome": ("结果", "Outcome"),
    "note": ("备注", "Note"),
    "call_again_at": ("再次回电时间", "Call again at"),
    "save": ("保存", "Save"),
    "outcome_saved": ("结果已保存", "Outcome saved"),
    "claim_first": ("请先认领", "Claim this entry first"),
    "book_slot": ("预约时段", "Book a slot"),
    "jobs": ("项目", "Jobs"),
    "hours": ("工时", "Hours"),
    "slot": ("时段", "Slot"),
    "book": ("预约", "Book"),
    "booked_ok": ("已预约", "Booked"),
    "confirmed": ("已确认到店", "confirmed"),
    "slot_taken": ("该时段已满，请另选", "That slot was just taken; pick another"),
    "no_slots": ("没有可预约时段", "No free slots"),
    "starts_at": ("到店时间", "Arrival"),
    "today": ("今天", "Today"),
    "tomorrow": ("明天", "Tomorrow"),
    "advisor": ("服务顾问", "Advisor"),
    "unassigned": ("未分配", "Unassigned"),
    "interval": ("时段", "Interval"),
    "technician": ("指定技师", "Technician"),
    "mileage": ("里程", "Mileage"),
    "faults": ("故障描述", "Faults"),
    "special_services": ("特色服务", "Special services"),
    "notes": ("备注", "Notes"),
    "rating": ("回访评分", "Rating"),
    "no_appointments": ("没有预约", "No appointments"),
    "print": ("打印", "Print"),
    "campaign": ("活动", "Campaign"),
    "week": ("周", "Week"),
    "due": ("应联系", "Due"),
    "contacted": ("已联系", "Contacted"),
    "delivered": ("已送达", "Delivered"),
    "replied": ("已回复", "Replied"),
    "booked": ("已预约", "Booked"),
    "showed": ("已到店", "Showed"),
    "opted_out": ("退订", "Opted out"),
    "booking_rate": ("预约转化率", "Booking rate"),
    "show_rate": ("预约到店率", "Show rate"),
    "appointment_rate": ("预约率", "Appointment rate"),
    "visits": ("来店", "Visits"),
    "by_appointment": ("预约来店", "By appointment"),
    "workshop_load": ("未来14天车间负荷", "Workshop load, next 14 days"),
    "appointments": ("预约数", "Appointments"),
    "no_data": ("暂无数据", "No data yet"),
    "pick_customer": ("选择演示客户", "Pick a demo customer"),
    "sms_thread": ("短信记录", "SMS thread"),
    "reply": ("回复", "Reply"),
    "send": ("发送", "Send"),
    "voice_call": ("语音通话", "Voice call"),
    "call_ended": ("通话已结束", "The call has ended"),
    "keypad_or_words": ("按键或说的话", "Keypad digits or words"),
    "press": ("按键或说话", "Keys or speech"),
    "start_call": ("开始通话", "Start call"),
    "language": ("语言", "Language"),
    "received_at": ("进入队列", "Filed"),
    "times_in": ("时间：", "times in"),
    "choose": ("请选择…", "Choose…"),
    "customer_time": ("客户当地时间", "Customer's local time"),
    "only_channel": ("客户要求", "The customer asked"),
    "only_channel_sms": ("只发短信，勿打电话", "Texts only, no calls"),
    "only_channel_voice": ("只打电话，勿发短信", "Calls only, no texts"),
    "system_record": ("系统记录", "System record"),
    "choose_outcome": ("请选择结果", "Choose an outcome"),
    "bad_request_title": ("请求无法处理", "This request could not be handled"),
    "bad_request_body": (
        "页面可能已过期（例如在另一个窗口退出后又提交了表单）。请刷新页面后再试一次。",
        "The page may be out of date (for example, you signed out in another window). Reload "
        "the page and try again.",
    ),
    "forbidden_title": ("没有权限", "Not allowed"),
    "forbidden_body": (
        "您的账号不能打开这个页面。如需要，请联系服务经理。",
        "Your account cannot open this page; ask your service manager if you need it.",
    ),
    "not_found_title": ("找不到这个页面", "Page not found"),
    "not_found_body": (
        "链接可能已失效，或这条记录已被删除。请从回电队列或预约看板重新打开。",
        "The link may be out of date or the record was removed. Open it again from the queue "
        "or the board.",
    ),
    "pick_day": ("选择日期", "Pick a day"),
    "show": ("查看", "Show"),
    "price": ("价格", "Price"),
    "to_quote": ("待报价", "to be quoted"),
    "job_lines": ("建议项目", "Recommended work"),
    "total": ("合计", "Total"),
    "source": ("来源", "Source"),
    "no_match": ("没有找到匹配的客户", "No customer matches"),
    "customer_id": ("客户编号", "Customer id"),
    "plate": ("车牌", "Plate"),
    "call_prompts": ("通话记录", "Call"),
    "notes_internal": ("内部备注", "Internal notes"),
    "funnel": ("活动漏斗", "Campaign funnel"),
    "this_week": ("本周", "This week"),
    "vs_last_week": ("较上周", "vs last week"),
    "waiting_now": ("今日待联系", "still due today"),
    "db_down_title": ("暂时无法连接数据库", "The database cannot be reached"),
    "db_down_body": (
        "工作台暂时连不上数据库，您的操作没有保存。请稍等一分钟后刷新本页；"
        "若仍无法使用，请联系系统管理员检查数据库服务。",
        "The desk cannot reach its database right now, so nothing was saved. Wait a minute and "
        "reload this page; if it still fails, ask your system administrator to check the "
        "database server.",
    ),
    "retry": ("重新加载", "Reload"),
    "error_title": ("出错了", "Something went wrong"),
    "error_body": (
        "工作台处理这个请求时出错，已记录下来。请返回上一页重试；若反复出现，请联系系统管理员。",
        "The desk could not complete this request; the error has been logged. Go back and try "
        "again; if it keeps happening, tell your system administrator.",
    ),
}

# Every code a page can show, by kind: (zh-CN, en).  tests/desk/test_labels.py renders each
# page with every value of every kind and fails on a raw code.
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "reason": {code: (r.zh, r.en) for code, r in REASONS.items()},
    "outcome": {
        "booked": ("已预约", "booked"),
        "declined": ("客户婉拒", "declined"),
        "no_answer": ("无人接听", "no answer"),
        "wrong_number": ("号码错误", "wrong number"),
        "complaint_handled": ("投诉已处理", "complaint handled"),
        "call_again": ("稍后再打", "call again later"),
    },
    "campaign": {
        "maintenance_interval": ("定期保养", "maintenance"),
        "deferred_work": ("遗留项目", "deferred work"),
        "seasonal": ("季节性维护", "seasonal"),
        "post_service_followup": ("回访", "follow-up"),
        "day_before": ("到店前一天确认", "day-before reminder"),
        "no_show": ("爽约跟进", "missed appointment"),
        "inbound": ("客户主动联系", "customer got in touch"),
        "reschedule": ("改约", "reschedule"),
    },
    # who spoke, in a transcript (ContactAttempt.direction)
    "speaker": {
        "in": ("客户", "customer"),
        "out": ("系统", "system"),
        "note": ("顾问备注", "advisor's note"),
    },
    "channel": {
        "sms": ("短信", "SMS"),
        "voice": ("电话", "call"),
        "desk": ("工作台", "desk"),
    },
    # a message's or call's state (ContactAttempt.status: the provider's, or ours)
    "attempt_status": {
        "accepted": ("已受理", "accepted"),
        "scheduled": ("已排期", "scheduled"),
        "queued": ("排队待发", "queued"),
        "initiated": ("呼叫中", "dialling"),
        "sending": ("发送中", "sending"),
        "ringing": ("振铃中", "ringing"),
        "sent": ("已发出", "sent"),
        "in-progress": ("通话中", "in progress"),
        "delivered": ("已送达", "delivered"),
        "undelivered": ("未送达", "not delivered"),
        "failed": ("失败", "failed"),
        "canceled": ("已取消", "cancelled"),
        "cancelled": ("已取消", "cancelled"),
        "completed": ("已接通", "answered"),
        "busy": ("占线", "busy"),
        "no-answer": ("无人接听", "no answer"),
        "read": ("已读", "read"),
        "received": ("已收到", "received"),
        "replied": ("已回复", "replied"),
        "said": ("已播报", "said"),
        "handed_off": ("转人工", "handed to an advisor"),
    },
    "callback_status": {
        "open": ("待处理", "open"),
        "claimed": ("已认领", "claimed"),
        "done": ("已完成", "done"),
    },
    "appointment_status": {
        "booked": ("已预约", "booked"),
        "cancelled": ("已取消", "cancelled"),
        "checked_in": ("已到店", "checked in"),
        "completed": ("已完工", "completed"),
        "no_show": ("爽约", "no-show"),
    },
    "visit_type": {
        "maintenance": ("保养", "maintenance"),
        "inspection": ("检查", "inspection"),
        "repair": ("维修", "repair"),
        "accident": ("事故维修", "accident repair"),
        "detailing": ("美容", "detailing"),
    },
    "severity": {
        "safety": ("安全", "safety"),
        "high": ("高", "high"),
        "medium": ("中", "medium"),
        "low": ("低", "low"),
    },
    "source": {
        "bot": ("系统预约", "booked by the system"),
        "advisor": ("顾问预约", "booked by an advisor"),
        "inbound": ("客户来电预约", "customer got in touch"),
    },
    "weekday": {
        str(n): pair
        for n, pair in enumerate(
            (
                ("周一", "Mon"),
                ("周二", "Tue"),
                ("周三", "Wed"),
                ("周四", "Thu"),
                ("周五", "Fri"),
                ("周六", "Sat"),
                ("周日", "Sun"),
            )
        )
    },
}
# A callback's priority number (lower is more urgent) in words: the first bound it is under.
PRIORITY_WORDS: tuple[tuple[int, tuple[str, str]], ...] = (
    (15, ("紧急", "urgent")),
    (25, ("高", "high")),
    (40, ("中", "normal")),
    (10**6, ("低", "low")),
)


def current_language() -> str:
    """The language chosen with the switch, else the dealership's default."""
    lang = session.get("lang")
    if lang in LANGUAGES:
        return str(lang)
    return settings().dealership.default_locale


def t(key: str) -> str:
    """The text for ``key`` in the current language (the key itself if unknown)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    return pair[0] if g.get("lang", current_language()) == "zh-CN" else pair[1]


def _pick(pair: tuple[str, str]) -> str:
    return pair[0] if g.get("lang", current_language()) == "zh-CN" else pair[1]


def label(kind: str, code: str | None) -> str:
    """A code's display name; an unknown code of a known kind is named as such, never raw."""
    if code is None:
        return ""
    pair = LABELS.get(kind, {}).get(code)
    if pair is None:
        return _pick(("其他", "other"))
    return _pick(pair)


def priority(value: int) -> str:
    """A callback's priority in words (urgent, high, normal, low)."""
    return next(_pick(pair) for bound, pair in PRIORITY_WORDS if value < bound)


def weekday(day: date | datetime) -> str:
    """周一 … 周日 / Mon … Sun."""
    return label("weekday", str(day.weekday()))


def minutes(value: timedelta | int | float) -> str:
    """A duration in words: "45 分钟", "2 小时 5 分钟", "1 天"."""
    total = int(value.total_seconds() // 60) if isinstance(value, timedelta) else int(value)
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    zh = g.get("lang", current_language()) == "zh-CN"
    units = (("天", "d"), ("小时", "h"), ("分钟", "min"))
    parts = [
        f"{n} {unit[0] if zh else unit[1]}"
        for n, unit in zip((days, hours, mins), units, strict=True)
        if n
    ]
    return " ".join(parts) or ("0 分钟" if zh else "0 min")


def local(instant: datetime | None, fmt: str = "%Y-%m-%d %H:%M", zone: str | None = None) -> str:
    """An instant in the dealership's zone (or ``zone``); ``%a`` is the weekday in the page's
    language."""
    if instant is None:
        return ""
    at = instant.astimezone(ZoneInfo(zone) if zone else settings().tz)
    return at.strftime(fmt.replace("%a", weekday(at)))


def template_context() -> dict[str, Any]:
    g.lang = current_language()
    return {
        "t": t,
        "label": label,
        "priority": priority,
        "weekday": weekday,
        "minutes": minutes,
        "local": local,
        "lang": g.lang,
        "languages": LANGUAGES,
        "zone": settings().dealership.timezone,
    }
