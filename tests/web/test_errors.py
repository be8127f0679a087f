"""A version conflict found only when the request commits is a 409 on every route."""

from __future__ import annotations

import pytest
from sqlalchemy.orm.exc import StaleDataError


@pytest.fixture
def stale_app(app):
    def stale():
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
