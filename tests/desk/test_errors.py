"""The web app's error boundary: a database that cannot be reached is a page in the reader's
language saying what to do (503, Retry-After), never Werkzeug's English "500 Internal Server
Error"; the desk works again as soon as the database is back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from outreach.accounts import add_user
from outreach.db import make_engine, make_sessionmaker
from outreach.migrate import upgrade
from outreach.models import CallbackRequest
from outreach.settings import Settings
from tests.desk.conftest import NOW, PASSWORD, make_callback
from tests.factories import make_customer
from webhooks import create_app


def _app(settings: Settings, url: str):
    settings = replace(settings, database_url=url)
    return create_app(
        settings,
        test_config={
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "CLOCK": lambda: NOW,
            "SECRET_KEY": "error-page-tests-secret-key-long-enough",
        },
    )


def _sign_in(client, lang: str | None = None):
    if lang:
        client.get(f"/lang/{lang}?next=/login")
    return client.post("/login", data={"username": "wang", "password": PASSWORD})


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh-CN", "暂时无法连接数据库"), ("en", "The database cannot be reached")],
)
def test_database_down_is_a_localised_503(settings, tmp_path: Path, lang, words):
    """Signing in while the database file's folder does not exist: what to do, in Chinese or
    English, with status 503 and a Retry-After, no traceback and no English 500."""
    app = _app(settings, f"sqlite:///{tmp_path / 'missing' / 'desk.db'}")
    response = _sign_in(app.test_client(), lang)
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert words in page
    assert "Internal Server Error" not in page and "Traceback" not in page


def test_the_desk_recovers_when_the_database_is_back(settings, tmp_path: Path):
    """The same running app signs in once the database exists: nothing to restart."""
    folder = tmp_path / "later"
    url = f"sqlite:///{folder / 'desk.db'}"
    client = _app(settings, url).test_client()
    assert _sign_in(client).status_code == 503
    folder.mkdir()
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        add_user(session, "wang", PASSWORD, role="advisor")
        session.commit()
    engine.dispose()
    response = _sign_in(client)
    assert response.status_code == 302
    assert client.get("/queue/").status_code == 200


def test_an_operational_error_anywhere_is_the_same_page(app, desk_client, monkeypatch):
    """A query failing mid-page (the server went away) answers the same 503 page."""

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr("desk.queue.list_callbacks", down)
    response = desk_client.client.get("/queue/")
    assert response.status_code == 503
    assert "暂时无法连接数据库" in response.get_data(as_text=True)


def test_the_api_answers_a_plain_503(app, desk_client, monkeypatch):
    """A DMS polling the API reads the status and a one-line reason, not an HTML page."""

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("desk.api.list_callbacks", down)
    response = desk_client.client.get("/api/callbacks")
    assert response.status_code == 503
    assert response.mimetype == "text/plain"


def test_an_unexpected_error_is_a_localised_500(app, desk_client, monkeypatch):
    """Any other failure is logged and shown as a Chinese page, not Werkzeug's English one."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("desk.queue.list_callbacks", broken)
    response = desk_client.client.get("/queue/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "出错了" in page and "Internal Server Error" not in page


def test_a_missing_page_and_a_stale_form_are_told_in_chinese(desk_client):
    """A 404 and a form posted without its CSRF token: Chinese pages, their own status."""
    missing = desk_client.client.get("/queue/999999")
    assert missing.status_code == 404 and "找不到这个页面" in missing.get_data(as_text=True)
    stale = desk_client.client.post("/queue/1/claim", data={})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 400 and "请刷新页面后再试一次" in page
    assert "CSRF" not in page and "Bad Request" not in page


def test_saving_without_an_outcome_asks_for_one(desk_client, db):
    """The outcome has no default: saving without choosing says so and changes nothing."""
    callback = make_callback(db, make_customer(db, name="李娜"), reason="complaint")
    db.commit()
    desk_client.post(f"/queue/{callback.id}/claim")
    page = desk_client.post(
        f"/queue/{callback.id}/outcome", {"outcome": ""}, follow_redirects=True
    ).get_data(as_text=True)
    assert "请选择结果" in page and "must be one of" not in page
    db.expire_all()
    assert db.get(CallbackRequest, callback.id).status == "claimed"
