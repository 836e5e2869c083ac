"""The desk against a hostile link, a guessed password, a forged cookie and a framing page."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

import desk
from outreach.settings import ConfigError, Settings, TwilioSettings
from tests.desk.conftest import PASSWORD, Desk

HOSTILE_NEXT = [
    "%2F%09%2Fevil.example",  # "/\t/evil.example": browsers drop the tab -> //evil.example
    "%2F%0A%2Fevil.example",
    "%2F%0D%0ALocation:%20https://evil.example",
    "/%5C/evil.example",  # "/\\/evil.example"
    "%20//evil.example",
    "/%20/evil.example",
    "https:%2F%2Fevil.example",
    "//evil.example/x",
    "/\u3000/evil.example",
]


class TestRedirects:
    @pytest.mark.parametrize("target", HOSTILE_NEXT)
    def test_language_switch_stays_on_the_site(self, client, target):
        """The language switch sends a hostile next= to the queue, never off-site or to a 500."""
        response = client.get(f"/lang/en?next={target}")
        assert response.status_code == 302
        assert response.headers["Location"] == "/queue/"

    @pytest.mark.parametrize("target", HOSTILE_NEXT)
    def test_sign_in_stays_on_the_site(self, client, advisor_user, target):
        """Signing in with a hostile next= lands on the queue."""
        desk_ = Desk(client)
        response = client.post(
            f"/login?next={target}",
            data={"username": "wang", "password": PASSWORD, "csrf_token": desk_.token()},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/queue/"

    def test_a_page_with_its_query_is_kept(self, client):
        """A relative path with a query string is a fine place to go back to."""
        response = client.get("/lang/en?next=%2Fboard%2F%3Fday%3D2025-03-11")
        assert response.headers["Location"] == "/board/?day=2025-03-11"


class TestSecretKey:
    def _app(self, settings: Settings) -> Flask:
        app = Flask("secret_test")
        app.config.update(SETTINGS=settings, SECRET_KEY=settings.secret_key)
        desk.register(app)
        return app

    def test_refuses_the_development_key_with_twilio(self):
        """With Twilio credentials and no OUTREACH_SECRET_KEY the desk refuses to start."""
        twilio = TwilioSettings("AC" + "0" * 32, "token", "+15005550006", None)
        with pytest.raises(ConfigError, match="OUTREACH_SECRET_KEY"):
            self._app(replace(Settings(), twilio=twilio))

    def test_refuses_the_development_key_behind_https(self):
        """With an https PUBLIC_BASE_URL and no OUTREACH_SECRET_KEY the desk refuses to start."""
        with pytest.raises(ConfigError, match="OUTREACH_SECRET_KEY"):
            self._app(replace(Settings(), public_base_url="https://desk.star-motors.cn"))

    def test_refuses_a_short_key_in_production(self):
        """A key too short to be secret is refused like the default."""
        settings = replace(Settings(), public_base_url="https://x.cn", secret_key="abc")
        with pytest.raises(ConfigError, match="OUTREACH_SECRET_KEY"):
            self._app(settings)

    def test_message_is_one_line(self):
        """The refusal is one line that says what to set."""
        with pytest.raises(ConfigError) as caught:
            self._app(replace(Settings(), public_base_url="https://desk.star-motors.cn"))
        assert "\n" not in str(caught.value)

    def test_real_key_and_local_demo_start(self):
        """A long random key in production, or the demo on localhost, starts."""
        key = "k3y-" + "x" * 40
        self._app(replace(Settings(), public_base_url="https://x.cn", secret_key=key))
        self._app(Settings())


class TestThrottling:
    def _fail(self, client, username: str, times: int) -> None:
        for _ in range(times):
            assert Desk(client).login(username=username, password="guess").status_code == 401

    def test_right_password_is_refused_after_too_many_failures(self, client, advisor_user):
        """After five wrong passwords for a name even the right one is refused for a while."""
        self._fail(client, "wang", 5)
        response = Desk(client).login()
        assert response.status_code == 429
        assert "15分钟后再试" in response.get_data(as_text=True)

    def test_address_is_throttled_across_names(self, client, advisor_user):
        """One address guessing many names is stopped too."""
        for i in range(20):
            self._fail(client, f"user{i}", 1)
        assert Desk(client).login().status_code == 429

    def test_a_locked_name_does_not_lock_others(self, app, client, db, advisor_user):
        """Locking one name leaves another name, from another address, free to sign in."""
        from outreach.accounts import add_user

        add_user(db, "zhao", PASSWORD)
        db.commit()
        self._fail(client, "wang", 5)
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
        assert Desk(other).login(username="zhao").status_code == 302

    def test_lock_passes(self, app, client, advisor_user):
        """Fifteen minutes after the last failure the right password works again."""
        from datetime import timedelta

        from tests.desk.conftest import NOW

        self._fail(client, "wang", 5)
        app.extensions["outreach.clock"] = lambda: NOW + timedelta(minutes=16)
        assert Desk(client).login().status_code == 302


class TestHeaders:
    @pytest.mark.parametrize("path", ["/login", "/queue/", "/board/", "/stats/", "/simulator/"])
    def test_every_page_has_the_headers(self, desk_client, path):
        """CSP without inline script, no framing, no sniffing, no full referrer."""
        response = desk_client.client.get(path)
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"

    @pytest.mark.parametrize("path", ["/login", "/queue/", "/board/", "/stats/", "/simulator/"])
    def test_pages_have_no_inline_script_or_style(self, desk_client, path):
        """No inline script, event handler or style attribute that the CSP would block."""
        page = desk_client.client.get(path).get_data(as_text=True)
        assert "<script>" not in page
        assert " onclick=" not in page
        assert " style=" not in page
        assert "<style" not in page
