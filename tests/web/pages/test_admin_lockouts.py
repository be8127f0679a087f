"""The admin page of sign-in lockouts and its Unlock button."""

from __future__ import annotations

import pytest

from engine import accounts
from tests import factories


@pytest.fixture
def locked(session, clock):  # type: ignore[no-untyped-def]
    user = factories.SocialWorkerFactory(username="alex")
    accounts.set_password(user, "correct horse battery")
    for _ in range(5):
        accounts.sign_in(session, username="alex", password="wrong", ip="10.0.0.1", now=clock.now())
    session.flush()
    assert accounts.is_locked(user, clock.now())
    return user


def test_the_page_lists_locked_accounts(as_user, locked) -> None:
    html = as_user(factories.AdminFactory()).get("/admin/lockouts").get_data(as_text=True)
    assert "<code>alex</code>" in html
    assert "Unlock alex" in html


def test_the_unlock_button_lifts_the_lock(as_user, locked, session, clock) -> None:
    admin = as_user(factories.AdminFactory())
    resp = admin.post("/admin/lockouts/alex/unlock")
    assert resp.status_code == 302
    session.refresh(locked)
    assert not accounts.is_locked(locked, clock.now())
    assert "No account is locked." in admin.get("/admin/lockouts").get_data(as_text=True)


@pytest.mark.parametrize("method", ["get", "post"])
def test_only_admins_reach_the_lockouts(as_user, locked, method) -> None:
    client = as_user(factories.SupervisorFactory())
    path = "/admin/lockouts" if method == "get" else "/admin/lockouts/alex/unlock"
    assert getattr(client, method)(path).status_code == 403
