"""Playing labelled replies end to end: scene, signed webhook request, effects, verdict.

The request goes through a :class:`Transport` — the webhooks app behind Twilio's signature
check, supplied by the caller (``outreach eval``), so this package needs no web framework.
SMS replies are an inbound message; voice replies answer the call's first question
(``SpeechResult``, or ``Digits`` when the reply is only keypad keys).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol
from xml.etree import ElementTree

from outreach import paths
from outreach.evaluation.corpus import Reply
from outreach.evaluation.judge import Verdict, judge
from outreach.evaluation.observe import Snapshot, compare, reported_intent, snapshot
from outreach.evaluation.stage import PHONE, Scratch, played_at, scene_key, set_up, warm_up
from outreach.settings import Settings

OUR_NUMBER = "+15005550006"  # the dealership's number the customer writes to
_KEYPAD = re.compile(r"[0-9*#]+")
VOICE_STEP = "choose-1"  # the answer to the first question of a call
_BASE = "base"  # the saved copy with the migrations and the warmed-up workshop, before any scene


class Transport(Protocol):
    """Posts a form to the webhooks app, signed as Twilio signs it; returns (status, body)."""

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]: ...


class PlayError(RuntimeError):
    """The webhook did not answer a reply (an HTTP error): the run cannot judge it."""


@dataclass
class Answer:
    status: int
    says: list[str] = field(default_factory=list)
    next_step: str | None = None  # the step of the next <Gather>, voice only

    @property
    def text(self) -> str:
        return " / ".join(self.says)


def parse_twiml(status: int, body: str) -> Answer:
    """The texts said or sent, and where a call goes on listening."""
    answer = Answer(status)
    if status != 200 or not body.strip():
        return answer
    root = ElementTree.fromstring(body)  # noqa: S314 - TwiML from the app being measured
    for node in root.iter():
        if node.tag in ("Message", "Say") and node.text:
            answer.says.append(node.text.strip())
        elif node.tag == "Gather":
            found = re.search(r"step=([A-Za-z0-9_.:-]+)", node.get("action") or "")
            answer.next_step = found[1] if found else None
    return answer


class Player:
    """Plays replies one by one on a scratch database, each from the same clean start."""

    def __init__(self, settings: Settings, scratch: Scratch, transport: Transport) -> None:
        self.settings = settings
        self.scratch = scratch
        self.transport = transport
        self.now = played_at(settings)
        self._sids = itertools.count(1)
        self._before: dict[object, Snapshot] = {}
        with scratch.sessions() as session, session.begin():
            warm_up(session, settings, self.now)
        scratch.save(_BASE)

    def play(self, reply: Reply) -> Verdict:
        before = self._scene(reply)
        sid, answer = self._send(reply)
        with self.scratch.sessions() as session:
            after = snapshot(session, PHONE)
            reported = reported_intent(session, sid)
        effects = compare(before, after)
        effects.reported = reported
        effects.answered = bool(answer.says)
        effects.retried = (answer.next_step or "").startswith("retry")
        return judge(reply, effects, answer.text)

    def play_all(
        self, replies: Iterable[Reply], progress: Callable[[int], None] | None = None
    ) -> list[Verdict]:
        verdicts = []
        for done, reply in enumerate(replies, start=1):
            verdicts.append(self.play(reply))
            if progress is not None:
                progress(done)
        return verdicts

    def _scene(self, reply: Reply) -> Snapshot:
        """Put the database in the reply's scene: set up the first time, restored after."""
        key = scene_key(reply)
        if self.scratch.has(key):
            self.scratch.restore(key)
            return self._before[key]
        self.scratch.restore(_BASE)
        with self.scratch.sessions() as session, session.begin():
            set_up(session, self.settings, reply, self.now)
        self.scratch.save(key)
        with self.scratch.sessions() as session:
            self._before[key] = snapshot(session, PHONE)
        return self._before[key]

    def _send(self, reply: Reply) -> tuple[str, Answer]:
        n = next(self._sids)
        if reply.channel == "sms":
            sid = f"SM{n:032x}"
            form = {"MessageSid": sid, "From": PHONE, "To": OUR_NUMBER, "Body": reply.text}
            path = paths.SMS
        else:
            call = f"CA{n:032x}"
            sid = f"{call}:{VOICE_STEP}"
            outbound = reply.caller == "known"
            form = {
                "CallSid": call,
                "From": OUR_NUMBER if outbound else PHONE,
                "To": PHONE if outbound else OUR_NUMBER,
                "Direction": "outbound-api" if outbound else "inbound",
                "CallStatus": "in-progress",
            }
            heard = reply.text.strip()
            form["Digits" if _KEYPAD.fullmatch(heard) else "SpeechResult"] = heard
            path = f"{paths.VOICE_GATHER}?step={VOICE_STEP}"
        status, body = self.transport.post(path, form)
        if status != 200:
            raise PlayError(f"{reply.where}: the webhook answered HTTP {status}: {body[:200]}")
        return sid, parse_twiml(status, body)
