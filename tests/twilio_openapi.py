"""Check the requests we make to Twilio against Twilio's own OpenAPI description.

The spec is a trimmed copy of twilio/twilio-oai's ``twilio_api_v2010.json`` (MIT, see
tests/data/twilio-oai.LICENSE; regenerate with tests/data/trim_twilio_spec.py). openapi-core
checks paths, types, formats, required fields and authentication; it lets unknown form fields
through, so :func:`validate_call` also refuses any parameter the spec does not name — a typo
such as ``ValidityPeriods`` would be silently ignored by Twilio.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest
from requests import PreparedRequest

SPEC_PATH = Path(__file__).resolve().parent / "data" / "twilio_api_v2010.trimmed.json"


class SpecViolation(AssertionError):
    """A request Twilio's API description does not accept."""


@cache
def _raw() -> dict[str, Any]:
    # json, not the YAML loader: one escape in this file trips YAML.
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def spec() -> OpenAPI:
    return OpenAPI.from_dict(_raw())


def _operation(request: PreparedRequest) -> dict[str, Any]:
    path = urlsplit(request.url or "").path
    for template, item in _raw()["paths"].items():
        head, _, tail = template.partition("{AccountSid}")
        if (
            path.startswith(head)
            and path.endswith(tail)
            and "/" not in path[len(head) : -len(tail)]
        ):
            operation = item.get((request.method or "").lower())
            if operation is not None:
                return operation  # type: ignore[no-any-return]
    raise SpecViolation(f"{request.method} {path}: not an operation of the trimmed spec")


def _unknown_names(request: PreparedRequest) -> list[str]:
    operation = _operation(request)
    query = {n for n, _ in parse_qsl(urlsplit(request.url or "").query, keep_blank_values=True)}
    declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    unknown = sorted(query - declared)
    if request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        form = {n for n, _ in parse_qsl(body, keep_blank_values=True)}
        content = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
        unknown += sorted(form - set(content["schema"]["properties"]))
    return unknown


def validate_call(request: PreparedRequest) -> None:
    """Raise :class:`SpecViolation` unless Twilio's spec accepts ``request`` as sent."""
    try:
        spec().validate_request(RequestsOpenAPIRequest(request))
    except Exception as exc:  # openapi-core raises several unrelated exception types
        raise SpecViolation(f"{request.method} {request.url}: {exc}") from exc
    unknown = _unknown_names(request)
    if unknown:
        raise SpecViolation(f"{request.method} {request.url}: unknown parameters {unknown}")


def validate_all(calls: Any) -> int:
    """Validate every request recorded by a ``responses`` mock; returns how many."""
    count = 0
    for call in calls:
        validate_call(call.request)
        count += 1
    return count
