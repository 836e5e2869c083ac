"""Every form needs its CSRF token; the Twilio blueprint is exempt (it checks signatures)."""

from __future__ import annotations

import pytest
from flask import Blueprint

from tests.desk.conftest import create_test_app

POSTS = [
    "/login",
    "/logout",
    "/queue/1/claim",
    "/queue/1/outcome",
    "/queue/1/book",
    "/simulator/1/sms",
    "/simulator/1/call",
    "/simulator/1/call/answer",
]


class TestCsrf:
    @pytest.mark.parametrize("path", POSTS)
    def test_post_without_token_is_rejected(self, desk_client, path):
        """A form posted without its token is refused with 400, even when signed in."""
        assert desk_client.client.post(path, data={"username": "wang"}).status_code == 400

    def test_post_with_a_forged_token_is_rejected(self, desk_client):
        """A token that was not issued to this session is refused."""
        response = desk_client.client.post("/logout", data={"csrf_token": "forged"})
        assert response.status_code == 400

    def test_every_post_route_is_listed(self, app):
        """The list above covers every POST route of the desk."""
        posts = {r.rule for r in app.url_map.iter_rules() if "POST" in (r.methods or ())}
        listed = {p.replace("/1/", "/<int:callback_id>/") for p in POSTS}
        listed |= {p.replace("/1/", "/<int:customer_id>/") for p in POSTS}
        assert posts <= listed

    def test_twilio_blueprint_is_exempt(self, settings, committing_engine):
        """A webhook on the blueprint named "twilio" is not asked for a CSRF token."""
        twilio = Blueprint("twilio", __name__)
        twilio.add_url_rule("/twilio/sms", "sms", lambda: "ok", methods=["POST"])
        app = create_test_app(settings, committing_engine)
        app.register_blueprint(twilio)
        assert app.test_client().post("/twilio/sms", data={"Body": "hi"}).status_code == 200
