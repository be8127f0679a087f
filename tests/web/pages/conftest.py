"""Fixtures for the page tests: signed-in clients per role and a case started through the
engine (never built by hand)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from engine import cases
from engine.accounts.models import User
from engine.clock import FrozenClock
from engine.inbox.models import HumanTask
from tests import factories


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    """Sign in without the login form (that form has its own tests)."""
    return factories.signed_in(client, user)


@pytest.fixture
def worker(session: Session) -> User:
    return factories.SocialWorkerFactory(display_name="Alex Rivera")


@pytest.fixture
def as_user(app: Any) -> Callable[[User], FlaskClient]:
    """as_user(user) -> a test client signed in as that user (one client per user)."""

    def make(user: User) -> FlaskClient:
        return sign_in(app.test_client(), user)

    return make


@pytest.fixture
def open_case(session: Session, clock: FrozenClock) -> Callable[..., tuple[int, HumanTask]]:
    """open_case(actor, **client) -> (case id, its first task), through the engine."""

    def make(actor: User, **client: Any) -> tuple[int, HumanTask]:
        data = {"given_name": "Rosa", "family_name": "Diaz", "birth_date": "1958-04-02"}
        data.update(client)
        case, started = cases.open_case(
            session, client=data, reason="Discharge planning", actor=actor, clock=clock
        )
        # Commit (a savepoint of the test's transaction) as a request would: audit rows are
        # written at commit, and the app's requests read through their own session.
        session.commit()
        return case.id, started.created_tasks[0]

    return make
