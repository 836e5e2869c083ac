"""The baseline for benchmarks/webhooks.py: a bare Flask route returning a constant."""

from flask import Flask

app = Flask(__name__)


@app.post("/twilio/sms")
def constant() -> tuple[str, int, dict[str, str]]:
    return "<Response/>", 200, {"Content-Type": "text/xml"}
