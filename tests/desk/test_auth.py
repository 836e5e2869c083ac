"""Sign-in, sign-out, the session cookie, and the guard on every desk route."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from outreach.settings import Settings
from tests.desk.conftest import PASSWORD, Desk, create_test_app

# Reachable without signing in: the form itself, the language switch, the stylesheet.
PUBLIC = {"auth.login", "auth.set_language", "auth.static", "static"}


def _routes() -> list[tuple[str, str, str]]:
    app = create_test_app(Settings())
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, _url(rule)))
    return found


def _url(rule: Rule) -> str:
    values = {
        arg: 1 if rule._converters[arg].__class__.__name__ == "IntegerConverter" else "x"
        for arg in rule.arguments
    }
    return rule.build(values)[1]  # type: ignore[index]


ROUTES = _routes()


class TestGuard:
    @pytest.mark.parametrize(
        ("endpoint", "method", "url"), ROUTES, ids=[r[0] + ":" + r[1] for r in ROUTES]
    )
    def test_anonymous_is_turned_away(self, client, endpoint, method, url):
        """Every page sends an anonymous visitor to sign-in and every API call answers 401."""
        token = Desk(client).token()
        response = client.open(url, method=method, data={"csrf_token": token})
        if endpoint.startswith("api."):
            assert response.status_code == 401
            assert response.json == {"error": "authentication required"}
        else:
            assert response.status_code == 302
            assert "/login" in response.headers["Location"] or endpoint == "desk_home"

    def test_every_desk_blueprint_is_covered(self):
        """The parametrized list reaches every blueprint, so a new one cannot slip past."""
        blueprints = {endpoint.split(".")[0] for endpoint, _, _ in ROUTES}
        assert {"queue", "board", "stats", "api", "simulator", "auth"} <= blueprints

    def test_signed_in_user_sees_pages(self, desk_client):
        """After sign-in the queue, board and stats pages answer 200."""
        for path in ("/queue/", "/board/", "/stats/", "/simulator/"):
            assert desk_client.client.get(path).status_code == 200, path


class TestSignIn:
    def test_wrong_password_is_refused(self, client, advisor_user):
        """A wrong password shows the form again with 401 and no session."""
        response = Desk(client).login(password="wrong password")
        assert response.status_code == 401
        assert client.get("/queue/").status_code == 302

    def test_unknown_user_is_refused(self, client, advisor_user):
        """An unknown username is refused like a wrong password."""
        assert Desk(client).login(username="nobody").status_code == 401

    def test_goes_to_next_page(self, client, advisor_user):
        """Signing in from a redirect lands on the page first asked for."""
        desk = Desk(client)
        response = client.post(
            "/login?next=/board/",
            data={"username": "wang", "password": PASSWORD, "csrf_token": desk.token()},
        )
        assert response.headers["Location"] == "/board/"

    def test_next_cannot_leave_the_site(self, client, advisor_user):
        """A next parameter pointing at another site is ignored (no open redirect)."""
        desk = Desk(client)
        response = client.post(
            "/login?next=//evil.example/x",
            data={"username": "wang", "password": PASSWORD, "csrf_token": desk.token()},
        )
        assert response.headers["Location"] == "/queue/"

    def test_cookie_is_httponly_and_lax(self, client, advisor_user):
        """The session cookie is HttpOnly and SameSite=Lax."""
        response = Desk(client).login()
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie

    def test_logout_ends_the_session(self, desk_client):
        """After sign-out the pages redirect to sign-in again."""
        assert desk_client.post("/logout").status_code == 302
        assert desk_client.client.get("/queue/").status_code == 302

    def test_inactive_user_is_signed_out(self, desk_client, db, advisor_user):
        """A deactivated account loses access on its next request."""
        advisor_user.active = False
        db.merge(advisor_user)
        db.commit()
        assert desk_client.client.get("/queue/").status_code == 302


class TestLanguage:
    def test_switch_changes_the_page_language(self, desk_client):
        """The language switch turns the pages from Chinese to English."""
        assert "回电队列" in desk_client.client.get("/queue/").get_data(as_text=True)
        desk_client.client.get("/lang/en?next=/queue/")
        page = desk_client.client.get("/queue/").get_data(as_text=True)
        assert "Callback queue" in page
        assert 'lang="en"' in page

    def test_switch_does_not_redirect_off_site(self, client):
        """The switch's next parameter cannot send the browser to another site."""
        response = client.get("/lang/en?next=https://evil.example/")
        assert response.headers["Location"] == "/queue/"
