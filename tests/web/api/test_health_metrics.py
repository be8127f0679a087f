"""/healthz and /metrics at the root."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from engine.settings import load_settings
from web import create_app


def test_healthz_is_ok_without_sign_in(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok"}


def _app_without_database(tmp_path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    settings = load_settings(database_url="sqlite://", secret_key="x", testing=True)
    return create_app(settings, sessions=sessionmaker(bind=engine)), engine


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    app, engine = _app_without_database(tmp_path)
    resp = app.test_client().get("/healthz")
    engine.dispose()
    assert resp.status_code == 503
    assert resp.get_json()["database"] != "ok"


def test_metrics_still_answer_when_the_database_is_down(tmp_path):
    app, engine = _app_without_database(tmp_path)
    resp = app.test_client().get("/metrics")
    engine.dispose()
    assert resp.status_code == 200
    assert "carebridge_database_up 0.0" in resp.get_data(as_text=True)


def test_metrics_have_the_work_gauges(api, clock):
    api.open_case()
    api.open_case(who="admin")
    clock.advance(timedelta(hours=30))
    text = api.client.get("/metrics").get_data(as_text=True)
    assert 'carebridge_open_tasks{role="social_worker"} 2.0' in text
    assert "carebridge_overdue_tasks 2.0" in text
    assert "carebridge_timer_lag_seconds" in text
    assert "carebridge_database_up 1.0" in text


def test_metrics_count_requests_by_endpoint_method_and_status(api):
    api.get("/api/v1/tasks")
    api.client.get("/api/v1/tasks")  # 401
    text = api.client.get("/metrics").get_data(as_text=True)
    assert (
        'carebridge_http_requests_total{endpoint="api.list_tasks",method="GET",status="200"} 1.0'
        in text
    )
    assert (
        'carebridge_http_requests_total{endpoint="api.list_tasks",method="GET",status="401"} 1.0'
        in text
    )
    assert 'carebridge_http_request_duration_seconds_bucket{endpoint="api.list_tasks"' in text


def test_each_app_has_its_own_registry(app, client):
    client.get("/healthz")
    other = create_app(load_settings(database_url="sqlite://", secret_key="x", testing=True))
    text = other.test_client().get("/metrics").get_data(as_text=True)
    assert 'endpoint="health.healthz"' not in text


def test_metrics_content_type_is_prometheus_text(client):
    resp = client.get("/metrics")
    assert resp.headers["Content-Type"].startswith("text/plain")
