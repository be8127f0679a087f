"""/api/v1/session: a page whose session expired signs in again without leaving."""

from __future__ import annotations

from engine.accounts import set_password

PASSWORD = "correct horse battery"  # noqa: S105  (a test password)


def test_signing_in_returns_a_csrf_token_and_a_session(api, session):
    set_password(api.users["sw"], PASSWORD)
    session.flush()
    resp = api.client.post("/api/v1/session", json={"username": "alex", "password": PASSWORD})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["user"] == "alex"
    assert body["csrf_token"]
    assert api.client.get("/api/v1/inbox/summary").status_code == 200


def test_a_wrong_password_is_401(api, session):
    set_password(api.users["sw"], PASSWORD)
    session.flush()
    resp = api.client.post("/api/v1/session", json={"username": "alex", "password": "nope"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "bad_credentials"


def test_the_session_probe_is_401_when_signed_out(api):
    assert api.client.get("/api/v1/session").status_code == 401
