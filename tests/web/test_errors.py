"""A version conflict found only when the request commits is a 409 on every route: the
request's unit of work (web.deps.transaction) turns database conflicts into Conflict."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from web import deps


@pytest.fixture
def stale_app(app):
    def stale():
        with deps.transaction():
            raise StaleDataError("UPDATE statement on table 'process_instances' expected 1 row")

    app.add_url_rule("/api/v1/stale-test", "api_stale_test", stale)
    app.add_url_rule("/stale-test", "page_stale_test", stale)
    return app


def test_api_gets_a_json_409(stale_app):
    response = stale_app.test_client().get("/api/v1/stale-test")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "stale_instance"


def test_a_page_gets_a_409_page_not_a_stack_trace(stale_app):
    response = stale_app.test_client().get("/stale-test")
    assert response.status_code == 409
    assert b"Someone else changed this" in response.data


class _DeadlockDetected(Exception):
    sqlstate = "40P01"


class _DiskFull(Exception):
    sqlstate = "53100"


@pytest.fixture
def racing_app(app):
    def deadlock():
        with deps.transaction():
            raise OperationalError(
                "UPDATE human_tasks ...", {}, _DeadlockDetected("deadlock detected")
            )

    def disk_full():
        with deps.transaction():
            raise OperationalError("INSERT ...", {}, _DiskFull("could not extend file"))

    app.add_url_rule("/api/v1/deadlock-test", "api_deadlock_test", deadlock)
    app.add_url_rule("/deadlock-test", "page_deadlock_test", deadlock)
    app.add_url_rule("/api/v1/disk-full-test", "api_disk_full_test", disk_full)
    return app


def test_a_deadlock_between_two_writers_is_a_409(racing_app):
    response = racing_app.test_client().get("/api/v1/deadlock-test")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "concurrent_write"
    assert racing_app.test_client().get("/deadlock-test").status_code == 409


def test_other_database_errors_are_not_passed_off_as_conflicts(racing_app):
    racing_app.config["PROPAGATE_EXCEPTIONS"] = False
    assert racing_app.test_client().get("/api/v1/disk-full-test").status_code == 500
