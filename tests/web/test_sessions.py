"""Server-side sign-in sessions: signing out and a password change end them (a copied cookie
stops working), and they expire after an idle period and an absolute lifetime."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import set_password
from engine.clock import FrozenClock
from engine.settings import load_settings
from tests import factories
from web import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def alex(session: Session):  # type: ignore[no-untyped-def]
    user = factories.SocialWorkerFactory(username="alex")
    set_password(user, PASSWORD)
    session.flush()
    return user


def _sign_in(client: FlaskClient) -> FlaskClient:
    resp = client.post("/login", data={"username": "alex", "password": PASSWORD})
    assert resp.status_code == 302
    return client


def _works(client: FlaskClient) -> bool:
    return client.get("/api/v1/tasks").status_code == 200


def _copy_of(app, client: FlaskClient) -> FlaskClient:  # type: ignore[no-untyped-def]
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_cookie_copied_before_sign_out_stops_working(app, alex) -> None:
    client = _sign_in(app.test_client())
    copy = _copy_of(app, client)
    assert _works(copy)
    client.post("/logout")
    assert not _works(copy)
    assert copy.get("/").status_code == 302


def test_a_session_ends_after_15_idle_minutes(app, alex, clock: FrozenClock) -> None:
    client = _sign_in(app.test_client())
    clock.advance(timedelta(minutes=15, seconds=1))
    assert not _works(client)


def test_activity_keeps_a_session_alive(app, alex, clock: FrozenClock) -> None:
    client = _sign_in(app.test_client())
    for _ in range(4):
        clock.advance(timedelta(minutes=14))
        assert _works(client)


def test_after_an_idle_timeout_signing_in_again_works(app, alex, clock: FrozenClock) -> None:
    client = _sign_in(app.test_client())
    clock.advance(timedelta(minutes=20))
    assert not _works(client)
    _sign_in(client)
    assert _works(client)


def test_a_busy_session_still_ends_after_12_hours(app, alex, clock: FrozenClock) -> None:
    client = _sign_in(app.test_client())
    for _ in range(11 * 6 + 5):  # every 10 minutes for 11h50
        clock.advance(timedelta(minutes=10))
        assert _works(client)
    clock.advance(timedelta(minutes=10))
    assert not _works(client)


def test_a_password_change_ends_every_session(app, alex) -> None:
    laptop = _sign_in(app.test_client())
    ward_pc = _sign_in(app.test_client())
    resp = laptop.post(
        "/api/v1/account/password",
        json={"current_password": PASSWORD, "new_password": "a much longer new secret"},
    )
    assert resp.status_code == 204
    assert not _works(ward_pc)
    assert not _works(laptop)
    fresh = app.test_client()
    assert (
        fresh.post(
            "/login", data={"username": "alex", "password": "a much longer new secret"}
        ).status_code
        == 302
    )


def test_a_password_change_needs_the_current_password(app, alex) -> None:
    client = _sign_in(app.test_client())
    resp = client.post(
        "/api/v1/account/password",
        json={"current_password": "not it", "new_password": "a much longer new secret"},
    )
    assert resp.status_code == 422
    assert _works(client)


def _app(session: Session, clock: FrozenClock, **settings):  # type: ignore[no-untyped-def]
    sessions = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return create_app(
        load_settings(database_url="sqlite://", secret_key="t", testing=True, **settings),
        sessions=sessions,
        clock=clock,
        config={"WTF_CSRF_ENABLED": False},
    )


def test_the_session_cookie_is_secure_by_default(session, clock, alex, monkeypatch) -> None:
    monkeypatch.delenv("CAREBRIDGE_SECURE_COOKIES", raising=False)
    resp = (
        _app(session, clock)
        .test_client()
        .post("/login", data={"username": "alex", "password": PASSWORD})
    )
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_the_session_cookie_is_plain_when_secure_cookies_are_off(session, clock, alex) -> None:
    resp = (
        _app(session, clock, secure_cookies=False)
        .test_client()
        .post("/login", data={"username": "alex", "password": PASSWORD})
    )
    assert "Secure" not in resp.headers["Set-Cookie"]


def test_the_idle_timeout_is_configurable(session, clock, alex, monkeypatch) -> None:
    monkeypatch.setenv("CAREBRIDGE_SESSION_IDLE_MINUTES", "5")
    client = _sign_in(_app(session, clock).test_client())
    clock.advance(timedelta(minutes=6))
    assert not _works(client)


def test_the_absolute_lifetime_is_configurable(session, clock, alex, monkeypatch) -> None:
    monkeypatch.setenv("CAREBRIDGE_SESSION_MAX_HOURS", "1")
    client = _sign_in(_app(session, clock).test_client())
    for _ in range(5):
        clock.advance(timedelta(minutes=10))
        assert _works(client)
    clock.advance(timedelta(minutes=10))
    assert not _works(client)


def test_secure_cookies_read_on_and_off_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CAREBRIDGE_SECURE_COOKIES", "0")
    assert load_settings(secret_key="x").secure_cookies is False
    monkeypatch.setenv("CAREBRIDGE_SECURE_COOKIES", "on")
    assert load_settings(secret_key="x").secure_cookies is True
    monkeypatch.delenv("CAREBRIDGE_SECURE_COOKIES")
    assert load_settings(secret_key="x").secure_cookies is True


def test_a_short_idle_limit_still_counts_recent_activity(session, clock, alex, monkeypatch) -> None:
    monkeypatch.setenv("CAREBRIDGE_SESSION_IDLE_MINUTES", "1")
    client = _sign_in(_app(session, clock).test_client())
    for _ in range(6):
        clock.advance(timedelta(seconds=40))
        assert _works(client)
    clock.advance(timedelta(seconds=61))
    assert not _works(client)
