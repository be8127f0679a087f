"""Signing in and out, redirects for anonymous users, CSRF and the login rate limit."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import set_password
from engine.audit import AuditEvent, AuditTag
from tests import factories
from web.pages.common import safe_next

PASSWORD = "correct horse battery"


@pytest.fixture
def alex(session: Session):
    user = factories.SocialWorkerFactory(username="alex")
    set_password(user, PASSWORD)
    session.flush()
    return user


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_page_has_a_labelled_form(client) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<label for="username">' in html
    assert '<label for="password">' in html
    assert 'autocomplete="current-password"' in html


def test_a_social_worker_signs_in_to_the_caseload_and_is_audited(client, alex, session) -> None:
    response = client.post("/login", data={"username": "alex", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/caseload"
    assert client.get("/").status_code == 200
    assert AuditTag.USER_LOGIN.value in _actions(session)


def test_wrong_password_is_refused_and_audited(client, alex, session) -> None:
    response = client.post("/login", data={"username": "alex", "password": "nope"})
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    assert AuditTag.USER_LOGIN_FAILED.value in _actions(session)
    assert client.get("/").status_code == 302  # still signed out


def test_sign_in_follows_a_local_next(client, alex) -> None:
    response = client.post(
        "/login", data={"username": "alex", "password": PASSWORD, "next": "/cases?q=diaz"}
    )
    assert response.headers["Location"] == "/cases?q=diaz"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/cases/3", "/cases/3"),
        ("/?view=team", "/?view=team"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("cases", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_is_only_ever_a_local_path(target, expected) -> None:
    assert safe_next(target, "/") == expected


def test_sign_out_needs_a_post_and_ends_the_session(client, alex) -> None:
    client.post("/login", data={"username": "alex", "password": PASSWORD})
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "path", ["/", "/?view=team", "/cases", "/cases/new", "/cases/1", "/tasks/1", "/admin/processes"]
)
def test_pages_send_anonymous_visitors_to_sign_in(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_signed_in_visitor_skips_the_login_page(client, alex) -> None:
    client.post("/login", data={"username": "alex", "password": PASSWORD})
    assert client.get("/login").headers["Location"] == "/"


def _app_with(session, clock, **config):
    from sqlalchemy.orm import sessionmaker

    from engine.settings import load_settings
    from web import create_app

    sessions = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    settings = load_settings(database_url="sqlite://", secret_key="test-secret", testing=True)
    base = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    return create_app(settings, sessions=sessions, clock=clock, config={**base, **config})


def test_a_post_without_csrf_token_is_refused(session, clock, alex) -> None:
    app = _app_with(session, clock, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"username": "alex", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in


def test_a_post_with_the_csrf_token_is_accepted(session, clock, alex) -> None:
    import re

    app = _app_with(session, clock, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login", data={"username": "alex", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
