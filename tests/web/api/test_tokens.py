"""API tokens: expiry, scopes, listing and revocation over the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.accounts import create_token
from engine.errors import Invalid
from tests.factories import AdminFactory, SocialWorkerFactory


@pytest.fixture
def issue(session, clock):  # type: ignore[no-untyped-def]
    """issue(user, **options) -> (token id, Bearer headers)."""
    from sqlalchemy import select

    from engine.accounts import ApiToken

    def make(user, **options):  # type: ignore[no-untyped-def]
        value = create_token(session, user, now=clock.now(), **options)
        token_id = session.scalars(select(ApiToken.id).order_by(ApiToken.id.desc())).first()
        return token_id, {"Authorization": f"Bearer {value}"}

    return make


def test_a_token_works_until_it_expires(client, clock, issue):
    _, headers = issue(SocialWorkerFactory(), expires_days=1)
    clock.advance(timedelta(hours=23))
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    clock.advance(timedelta(hours=1))
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401


def test_tokens_expire_after_90_days_unless_told_otherwise(client, clock, issue):
    _, headers = issue(SocialWorkerFactory())
    clock.advance(timedelta(days=90))
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401


@pytest.mark.parametrize("days", [0, -1, 10_000])
def test_an_expiry_out_of_range_is_refused(session, clock, days):
    with pytest.raises(Invalid):
        create_token(session, SocialWorkerFactory(), now=clock.now(), expires_days=days)


def test_an_unknown_scope_is_refused(session, clock):
    with pytest.raises(Invalid):
        create_token(session, SocialWorkerFactory(), now=clock.now(), scopes=["root"])


def test_a_revoked_token_is_401_at_once(client, issue):
    token_id, headers = issue(SocialWorkerFactory())
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 204
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401


def test_listing_shows_only_your_own_tokens(client, issue):
    me, other = SocialWorkerFactory(username="alex"), SocialWorkerFactory(username="sam")
    _, headers = issue(me, scopes=["api", "fhir:read"])
    issue(other)
    tokens = client.get("/api/v1/tokens", headers=headers).get_json()["tokens"]
    assert [(t["user"], t["scopes"], t["status"]) for t in tokens] == [
        ("alex", ["api", "fhir:read"], "active")
    ]
    assert "token_hash" not in tokens[0]


def test_an_admin_lists_everyones_tokens(client, issue):
    issue(SocialWorkerFactory(username="alex"))
    _, headers = issue(AdminFactory(username="root"))
    users = [t["user"] for t in client.get("/api/v1/tokens", headers=headers).get_json()["tokens"]]
    assert sorted(users) == ["alex", "root"]


def test_a_listed_token_shows_its_expiry_and_revocation(client, clock, issue):
    token_id, headers = issue(SocialWorkerFactory(), expires_days=30)
    _, other = issue(AdminFactory())
    client.delete(f"/api/v1/tokens/{token_id}", headers=other)
    [row] = [
        t
        for t in client.get("/api/v1/tokens", headers=other).get_json()["tokens"]
        if t["id"] == token_id
    ]
    assert row["status"] == "revoked"
    assert row["expires_at"] == (clock.now() + timedelta(days=30)).isoformat()


def test_revoking_someone_elses_token_is_403(client, issue):
    theirs, their_headers = issue(SocialWorkerFactory())
    _, mine = issue(SocialWorkerFactory())
    assert client.delete(f"/api/v1/tokens/{theirs}", headers=mine).status_code == 403
    assert client.get("/api/v1/tasks", headers=their_headers).status_code == 200


def test_an_admin_revokes_anyones_token(client, issue):
    theirs, their_headers = issue(SocialWorkerFactory())
    _, admin = issue(AdminFactory())
    assert client.delete(f"/api/v1/tokens/{theirs}", headers=admin).status_code == 204
    assert client.get("/api/v1/tasks", headers=their_headers).status_code == 401


def test_revoking_an_unknown_token_is_404(client, issue):
    _, admin = issue(AdminFactory())
    assert client.delete("/api/v1/tokens/999999", headers=admin).status_code == 404


def test_a_scoped_token_without_api_cannot_use_the_users_rights(client, issue):
    _, headers = issue(AdminFactory(), scopes=["fhir:read"])
    assert client.get("/api/v1/tasks", headers=headers).status_code == 403
    assert client.get("/api/v1/tokens", headers=headers).status_code == 403


def test_a_token_does_not_open_the_pages(client, issue):
    _, headers = issue(SocialWorkerFactory())
    resp = client.get("/", headers=headers)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login")


def test_a_signed_in_browser_revokes_its_users_token_with_a_bare_delete(app, issue):
    from tests.factories import signed_in

    user = SocialWorkerFactory()
    token_id, headers = issue(user)
    browser = signed_in(app.test_client(), user)
    assert browser.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert browser.get("/api/v1/tasks", headers=headers).status_code == 200  # the cookie
    assert app.test_client().get("/api/v1/tasks", headers=headers).status_code == 401
