"""Sign-in limits count failures only: an account locks after 5 failures in 15 minutes (an
admin can lift it), an address is throttled after 20 failures in 5 minutes, and one person's
bad guesses do not lock out colleagues behind the same address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from engine.accounts import set_password
from engine.clock import FrozenClock
from tests import factories

PASSWORD = "correct horse battery"
WARD = "198.51.100.7"
HOME = "203.0.113.9"


@pytest.fixture
def people(session: Session):  # type: ignore[no-untyped-def]
    users = [factories.SocialWorkerFactory(username=name) for name in ("alex", "sam")]
    for user in users:
        set_password(user, PASSWORD)
    session.flush()
    return users


def attempt(client: FlaskClient, username: str, password: str, ip: str = WARD) -> int:
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    ).status_code


def test_five_failures_lock_the_account_even_for_the_right_password(client, people):
    assert [attempt(client, "alex", "wrong") for _ in range(4)] == [401] * 4
    assert attempt(client, "alex", "wrong") == 423
    assert attempt(client, "alex", PASSWORD) == 423
    assert client.get("/").status_code == 302  # not signed in


def test_ten_bad_guesses_for_one_user_leave_colleagues_on_the_same_address_alone(client, people):
    for _ in range(10):
        attempt(client, "alex", "wrong")
    assert attempt(client, "sam", PASSWORD) == 302


def test_successful_sign_ins_do_not_count(client, people):
    # More than the account limit (5): counted successes would lock sam out.
    for _ in range(7):
        assert attempt(client, "sam", PASSWORD) == 302


def test_a_success_resets_the_accounts_count(client, people):
    for _ in range(4):
        attempt(client, "alex", "wrong")
    assert attempt(client, "alex", PASSWORD) == 302
    assert [attempt(client, "alex", "wrong") for _ in range(4)] == [401] * 4
    assert attempt(client, "alex", PASSWORD) == 302


def test_a_lockout_ends_after_15_minutes(client, clock: FrozenClock, people):
    for _ in range(5):
        attempt(client, "alex", "wrong")
    clock.advance(timedelta(minutes=15, seconds=1))
    assert attempt(client, "alex", PASSWORD) == 302


def test_twenty_failures_from_one_address_throttle_it(client, people):
    for n in range(20):
        attempt(client, f"nobody{n}", "wrong")
    assert attempt(client, "sam", PASSWORD) == 429
    assert attempt(client, "sam", PASSWORD, ip=HOME) == 302


def test_an_address_throttle_ends_after_its_window(client, clock: FrozenClock, people):
    for n in range(20):
        attempt(client, f"nobody{n}", "wrong")
    clock.advance(timedelta(minutes=5, seconds=1))
    assert attempt(client, "sam", PASSWORD) == 302


def test_an_admin_lifts_a_lockout_over_the_api(client, api_as, people):
    for _ in range(5):
        attempt(client, "alex", "wrong")
    admin = api_as(factories.AdminFactory())
    resp = client.post("/api/v1/users/alex/unlock", headers=admin)
    assert resp.status_code == 200
    assert resp.get_json()["user"] == {"username": "alex", "locked": False, "locked_until": None}
    assert attempt(client, "alex", PASSWORD) == 302


def test_only_an_admin_lifts_a_lockout(client, api_as, people):
    for _ in range(5):
        attempt(client, "alex", "wrong")
    resp = client.post("/api/v1/users/alex/unlock", headers=api_as(people[1]))
    assert resp.status_code == 403
    assert attempt(client, "alex", PASSWORD) == 423


def test_unlocking_an_unknown_user_is_404(client, api_as):
    admin = api_as(factories.AdminFactory())
    assert client.post("/api/v1/users/ghost/unlock", headers=admin).status_code == 404


def test_an_empty_form_is_refused_without_counting(client, people):
    for _ in range(6):
        assert attempt(client, "alex", "") == 401
    assert attempt(client, "alex", PASSWORD) == 302


def test_a_site_sets_its_own_limits(session, clock, people, monkeypatch):
    from sqlalchemy.orm import sessionmaker

    from engine.settings import load_settings
    from web import create_app

    monkeypatch.setenv("CAREBRIDGE_LOGIN_IP_FAILURES", "3")
    monkeypatch.setenv("CAREBRIDGE_LOGIN_ACCOUNT_FAILURES", "2")
    sessions = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app = create_app(
        load_settings(database_url="sqlite://", secret_key="t", testing=True),
        sessions=sessions,
        clock=clock,
        config={"WTF_CSRF_ENABLED": False},
    )
    client = app.test_client()
    assert [attempt(client, "alex", "wrong") for _ in range(2)] == [401, 423]
    attempt(client, "nobody", "wrong")
    assert attempt(client, "sam", PASSWORD) == 429
