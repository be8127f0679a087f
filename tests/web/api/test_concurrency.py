"""Two people completing one task at the same moment: exactly one wins, the other gets 409.

Runs against really committed data (the `committed` fixture), each request in its own
thread with its own connection, so the database's locking decides, not the test."""

from __future__ import annotations

import threading

import pytest

from engine import accounts
from engine.clock import FrozenClock
from engine.settings import load_settings
from web import create_app

from .conftest import INTAKE, new_case_body


@pytest.fixture
def live(committed, clock: FrozenClock):  # type: ignore[no-untyped-def]
    settings = load_settings(database_url="sqlite://", secret_key="test-secret", testing=True)
    app = create_app(settings, sessions=committed, clock=clock, config={"RATELIMIT_ENABLED": False})
    with committed.begin() as session:
        alex = accounts.create_user(
            session, username="alex", display_name="Alex", roles=["social_worker"]
        )
        sam = accounts.create_user(
            session, username="sam", display_name="Sam", roles=["supervisor"]
        )
        tokens = [accounts.create_token(session, u, now=clock.now()) for u in (alex, alex, sam)]
    return app, [{"Authorization": f"Bearer {t}"} for t in tokens]


def _race(app, requests):  # type: ignore[no-untyped-def]
    """Fire the requests at once from separate threads; return their status codes."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []
    lock = threading.Lock()

    def run(path: str, headers: dict[str, str], body: dict) -> None:  # type: ignore[type-arg]
        client = app.test_client()
        barrier.wait()
        status = client.post(path, json=body, headers=headers).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(statuses)


def _intake(app, headers):  # type: ignore[no-untyped-def]
    client = app.test_client()
    opened = client.post("/api/v1/cases", json=new_case_body(), headers=headers).get_json()
    case = client.get(f"/api/v1/cases/{opened['id']}", headers=headers).get_json()["case"]
    [task] = case["tasks"]
    return task["id"]


def test_concurrent_completions_one_wins_one_gets_409(live):
    app, (alex_1, alex_2, _) = live
    task_id = _intake(app, alex_1)
    path = f"/api/v1/tasks/{task_id}/complete"
    statuses = _race(app, [(path, alex_1, {"data": INTAKE}), (path, alex_2, {"data": INTAKE})])
    assert statuses == [200, 409]


def test_completion_racing_a_reassignment_leaves_one_consistent_outcome(live):
    app, (alex, _, morgan) = live
    task_id = _intake(app, alex)
    statuses = _race(
        app,
        [
            (f"/api/v1/tasks/{task_id}/complete", alex, {"data": INTAKE}),
            (f"/api/v1/tasks/{task_id}/release", morgan, {}),
        ],
    )
    # Release first: the task returns to the queue and alex completes it from there.
    # Completion first: the release finds it closed. Never a half-applied state.
    assert statuses in ([200, 200], [200, 409])
    task = app.test_client().get(f"/api/v1/tasks/{task_id}", headers=morgan).get_json()["task"]
    assert task["status"] == "completed"
