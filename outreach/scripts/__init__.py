"""The standard phrasing (标准用语) as Jinja2 scripts, and what a text costs as SMS.

``render(settings, name, locale=…, channel=…, **context)`` is the one entry point; the context
each script expects is documented at the top of its ``.j2`` file and shown by
:func:`outreach.scripts.examples.example_context`.
"""

from outreach.scripts.render import (
    PROACTIVE,
    ScriptError,
    ScriptNotFound,
    environment,
    is_overridden,
    render,
    segment_budget,
    template_names,
)
from outreach.scripts.sms import SmsSize, measure, segments, sms_encoding, sms_units

__all__ = [
    "PROACTIVE",
    "ScriptError",
    "ScriptNotFound",
    "SmsSize",
    "environment",
    "is_overridden",
    "measure",
    "render",
    "segment_budget",
    "segments",
    "sms_encoding",
    "sms_units",
    "template_names",
]
