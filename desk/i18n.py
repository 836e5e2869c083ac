"""The desk's words in Chinese and English: one dict, a ``t(key)`` template function."""

from __future__ import annotations

from typing import Any

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
}

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "reason": {code: (r.zh, r.en) for code, r in REASONS.items()},
    "outcome": {
        "booked": ("已预约", "booked"),
        "declined": ("客户婉拒", "declined"),
        "no_answer": ("无人接听", "no answer"),
        "wrong_number": ("号码错误", "wrong number"),
        "complaint_handled": ("投诉已处理", "complaint handled"),
        "call_again": ("稍后再打", "call again at …"),
    },
    "campaign": {
        "maintenance_interval": ("定期保养", "maintenance"),
        "deferred_work": ("遗留项目", "deferred work"),
        "seasonal": ("季节性维护", "seasonal"),
        "post_service_followup": ("回访", "follow-up"),
    },
}


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


def label(kind: str, code: str | None) -> str:
    """A code's display name (reason, outcome, campaign); unknown codes are shown as they are."""
    if code is None:
        return ""
    pair = LABELS.get(kind, {}).get(code)
    if pair is None:
        return code
    return pair[0] if g.get("lang", current_language()) == "zh-CN" else pair[1]


def template_context() -> dict[str, Any]:
    g.lang = current_language()
    return {"t": t, "label": label, "lang": g.lang, "languages": LANGUAGES}
