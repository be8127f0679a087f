"""Every API route needs a session cookie or a Bearer token; cookie POSTs must be JSON."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy.orm import sessionmaker

from engine.settings import load_settings
from tests.factories import AdminFactory, SocialWorkerFactory, signed_in
from web import create_app

from .conftest import new_case_body


def _api_rules():  # type: ignore[no-untyped-def]
    app = create_app(load_settings(database_url="sqlite://", secret_key="x", testing=True))
    for rule in app.url_map.iter_rules():
        # Public views (the OpenAPI document, signing in) are reachable without a session.
        if not rule.rule.startswith("/api/v1") or getattr(
            app.view_functions[rule.endpoint], "public", False
        ):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = re.sub(r"<int:\w+>", "1", rule.rule)
            yield method, re.sub(r"<\w+>", "phq9", url)


@pytest.mark.parametrize(("method", "url"), sorted(_api_rules()))
def test_every_route_refuses_anonymous_callers_with_401(client, method, url):
    resp = client.open(url, method=method, json={})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthenticated"


def test_unknown_token_is_401(client):
    resp = client.get("/api/v1/tasks", headers={"Authorization": "Bearer cb_not-a-real-token"})
    assert resp.status_code == 401


def test_openapi_document_needs_no_sign_in(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def _sign_in(client, user) -> None:  # type: ignore[no-untyped-def]
    signed_in(client, user)


def test_session_cookie_authenticates_api_reads(client):
    _sign_in(client, SocialWorkerFactory())
    assert client.get("/api/v1/tasks").status_code == 200


def test_cookie_post_with_json_is_accepted(client):
    _sign_in(client, SocialWorkerFactory())
    assert client.post("/api/v1/cases", json=new_case_body()).status_code == 201


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_cookie_post_that_a_cross_site_form_could_send_is_refused(client, content_type):
    _sign_in(client, SocialWorkerFactory())
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post("/api/v1/cases", data='{"client": {}}', headers=headers)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "unsupported_media_type"


@pytest.fixture
def csrf_app(session, clock):  # type: ignore[no-untyped-def]
    sessions = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    settings = load_settings(database_url="sqlite://", secret_key="test-secret", testing=True)
    return create_app(settings, sessions=sessions, clock=clock, config={"RATELIMIT_ENABLED": False})


def test_cookie_multipart_upload_needs_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    _sign_in(client, AdminFactory())
    resp = client.post(
        "/api/v1/process-definitions",
        data={"bpmn": (io.BytesIO(b"<x/>"), "x.bpmn")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    assert "csrf" in resp.get_json()["error"]["message"].lower()


def test_bearer_post_needs_no_csrf_token(csrf_app, api_as):
    client = csrf_app.test_client()
    resp = client.post("/api/v1/cases", json=new_case_body(), headers=api_as(SocialWorkerFactory()))
    assert resp.status_code == 201
