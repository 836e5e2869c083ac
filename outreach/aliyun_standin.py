"""A local stand-in for Aliyun's Dysmsapi: what the demo and the tests send SMS to.

It answers ``SendSms`` and ``QuerySendDetails`` the way Aliyun does, and refuses what Aliyun
would refuse: a request whose ACS3-HMAC-SHA256 signature does not verify with the account's
secret, a missing parameter, a signature (签名) or template code that is not registered, a
``TemplateParam`` that is not a JSON object of strings naming exactly the template's
variables, a variable over 35 characters or carrying a link.  Each accepted message is kept
as the customer would receive it (``【签名】`` + the filled template).

Run it with :meth:`AliyunStandIn.start` (a thread on 127.0.0.1, any free port) and point
``ALIYUN_SMS_ENDPOINT`` at :attr:`AliyunStandIn.url`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from outreach.scripts.templates import VARIABLE_LIMIT

ALGORITHM = "ACS3-HMAC-SHA256"
API_VERSION = "2017-05-25"
CHINA = ZoneInfo("Asia/Shanghai")
_LINK = re.compile(r"https?://|www\.", re.I)


def _encode(text: str) -> str:
    # RFC 3986 percent-encoding, as Aliyun's V3 signature canonicalises query parameters.
    return quote(text, safe="-_.~")


def canonical_request(request: Request) -> tuple[str, str]:
    """The V3 canonical request of ``request`` and the SignedHeaders it names."""
    auth = request.headers.get("Authorization", "")
    signed = re.search(r"SignedHeaders=([^,]+)", auth)
    names = signed.group(1).split(";") if signed else []
    query = sorted((k, v) for k, values in request.args.lists() for v in values)
    headers = "".join(f"{n}:{request.headers.get(n, '').strip()}\n" for n in names)
    payload = hashlib.sha256(request.get_data()).hexdigest()
    text = "\n".join(
        [
            request.method,
            request.path or "/",
            "&".join(f"{_encode(k)}={_encode(v)}" for k, v in query),
            headers,
            ";".join(names),
            payload,
        ]
    )
    return text, ";".join(names)


def signature_of(request: Request, secret: str) -> str:
    """The ACS3-HMAC-SHA256 signature Aliyun expects on ``request``."""
    text, _ = canonical_request(request)
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(text.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the stand-in keeps what it got in ``requests``


@dataclass
class Message:
    """One accepted SendSms, as the stand-in keeps it."""

    biz_id: str
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    content: str
    out_id: str
    sent_at: datetime


@dataclass
class AliyunStandIn:
    """The stand-in's account: keys, registered signature and templates, and what it got."""

    access_key_id: str
    access_key_secret: str
    sign_name: str
    templates: dict[str, str]  # code → text with ${name} variables, as registered
    messages: list[Message] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # every request, parsed
    fail_next: list[tuple[int, str]] = field(default_factory=list)  # (HTTP status, Code)
    _server: BaseWSGIServer | None = None

    # -- serving ------------------------------------------------------------------------

    def start(self) -> AliyunStandIn:
        self._server = make_server(
            "127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_QuietHandler
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None  # noqa: S101 - start() first
        return f"http://127.0.0.1:{self._server.server_port}"

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        status, body = self.handle(request)
        response = Response(json.dumps(body, ensure_ascii=False), status=status)
        response.content_type = "application/json;charset=utf-8"
        return response(environ, start_response)

    # -- the API ------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, dict[str, Any]]:
        action = request.headers.get("x-acs-action", "")
        params = dict(request.args.items())
        params.update(request.form.items())
        self.requests.append(
            {
                "action": action,
                "version": request.headers.get("x-acs-version"),
                "authorization": request.headers.get("Authorization", ""),
                "params": params,
            }
        )
        refused = self._check_signature(request)
        if refused:
            return 400, _error(refused, "the request signature does not conform to Aliyun V3")
        if request.headers.get("x-acs-version") != API_VERSION:
            return 400, _error("InvalidVersion", "x-acs-version must be 2017-05-25")
        if self.fail_next:
            status, code = self.fail_next.pop(0)
            return status, _error(code, "failing as asked")
        if action == "SendSms":
            return self._send(params)
        if action == "QuerySendDetails":
            return self._query(params)
        return 404, _error("InvalidAction.NotFound", f"unknown action {action!r}")

    def _check_signature(self, request: Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith(ALGORITHM + " "):
            return "IncompleteSignature"
        credential = re.search(r"Credential=([^,]+)", auth)
        signature = re.search(r"Signature=([0-9a-f]+)", auth)
        if not credential or credential.group(1) != self.access_key_id:
            return "InvalidAccessKeyId.NotFound"
        _, names = canonical_request(request)
        required = {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-version"}
        if not required <= set(names.split(";")):
            return "IncompleteSignature"
        expected = signature_of(request, self.access_key_secret)
        if not signature or not hmac.compare_digest(signature.group(1), expected):
            return "SignatureDoesNotMatch"
        return None

    def _send(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return 400, _error("MissingParameter", f"{name} is mandatory")
        phone = params["PhoneNumbers"]
        if not re.fullmatch(r"1\d{10}", phone):
            return 200, _error("isv.MOBILE_NUMBER_ILLEGAL", f"invalid mobile number {phone}")
        if params["SignName"] != self.sign_name:
            return 200, _error("isv.SMS_SIGNATURE_ILLEGAL", "the signature is not registered")
        text = self.templates.get(params["TemplateCode"])
        if text is None:
            return 200, _error("isv.SMS_TEMPLATE_ILLEGAL", "the template is not registered")
        names = set(re.findall(r"\$\{(\w+)\}", text))
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return 200, _error("isv.INVALID_JSON_PARAM", "TemplateParam is not JSON")
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return 200, _error("isv.INVALID_JSON_PARAM", "TemplateParam takes string values")
        if set(values) != names:
            return 200, _error("isv.TEMPLATE_MISSING_PARAMETERS", f"expected {sorted(names)}")
        for value in values.values():
            if len(value) > VARIABLE_LIMIT:
                return 200, _error("isv.PARAM_LENGTH_LIMIT", f"{value[:10]}… is too long")
            if _LINK.search(value):
                return 200, _error("isv.PARAM_NOT_SUPPORT_URL", "no links in variables")
        content = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)
        biz_id = f"{uuid.uuid4().int % 10**18}^0"
        self.messages.append(
            Message(
                biz_id=biz_id,
                phone=phone,
                sign_name=params["SignName"],
                template_code=params["TemplateCode"],
                params=values,
                content=f"【{self.sign_name}】{content}",
                out_id=params.get("OutId", ""),
                sent_at=datetime.now(CHINA),
            )
        )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": _request_id()}

    def _query(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        for name in ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"):
            if not params.get(name):
                return 400, _error("MissingParameter", f"{name} is mandatory")
        size, page = int(params["PageSize"]), int(params["CurrentPage"])
        if not 1 <= size <= 50:
            return 400, _error("InvalidParameter", "PageSize must be 1-50")
        found = [
            m
            for m in self.messages
            if m.phone == params["PhoneNumber"]
            and m.sent_at.strftime("%Y%m%d") == params["SendDate"]
        ]
        chunk = found[(page - 1) * size : page * size]
        details = [
            {
                "PhoneNum": m.phone,
                "SendStatus": 1,  # waiting for the carrier's receipt
                "ErrCode": "",
                "TemplateCode": m.template_code,
                "Content": m.content,
                "SendDate": m.sent_at.strftime("%Y-%m-%d %H:%M:%S"),
                "ReceiveDate": m.sent_at.strftime("%Y-%m-%d %H:%M:%S"),
                "OutId": m.out_id,
            }
            for m in chunk
        ]
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "RequestId": _request_id(),
            "TotalCount": str(len(found)),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
        }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"Code": code, "Message": message, "RequestId": _request_id()}


def _request_id() -> str:
    return str(uuid.uuid4()).upper()
