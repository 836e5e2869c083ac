"""The floor for benchmarks/webhooks.py: the least a webhook that keeps Twilio's retries can do.

It reads the form, checks the signature and inserts the message's handled-once row in its own
PostgreSQL transaction, then answers a constant.  No conversation, no ORM.  Whatever the real
webhook costs beyond this is the conversation; what this costs beyond the bare route is the
price of signing and recording any message at all.
"""

import os

from flask import Flask, abort, request
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from outreach.db import make_engine

app = Flask(__name__)
engine = make_engine(os.environ["DATABASE_URL"])
validator = RequestValidator(os.environ["OUTREACH_SANDBOX_AUTH_TOKEN"])
PUBLIC = os.environ["PUBLIC_BASE_URL"]
INSERT = text(
    "INSERT INTO webhook_events (key, answer, received_at) VALUES (:key, '', now())"
    " ON CONFLICT (key) DO NOTHING"
)


@app.post("/twilio/sms")
def recorded() -> tuple[str, int, dict[str, str]]:
    form = request.form
    signature = request.headers.get("X-Twilio-Signature", "")
    if not validator.validate(PUBLIC + request.path, form, signature):
        abort(403)
    with engine.begin() as conn:
        conn.execute(INSERT, {"key": "floor:" + form["MessageSid"]})
    return "<Response/>", 200, {"Content-Type": "text/xml"}
