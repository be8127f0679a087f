"""Security headers on every answer, inputs that must be 4xx (ids past 64 bits, bad cursors,
deep JSON), downloads named in any script, /metrics access and labels, and which processes
can open a case."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import definitions
from engine.settings import load_settings
from tests import factories
from web import create_app

BIG = 2**63  # one past the largest id a database row can have


@pytest.fixture
def worker_headers(api_as):  # type: ignore[no-untyped-def]
    return api_as(factories.SocialWorkerFactory())


def _security_headers_present(resp) -> None:  # type: ignore[no-untyped-def]
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"


def test_a_page_has_the_security_headers_and_no_store(client):
    resp = client.get("/login")
    _security_headers_present(resp)
    assert resp.headers["Cache-Control"] == "no-store"


def test_an_api_answer_has_the_security_headers_and_no_store(client, worker_headers):
    resp = client.get("/api/v1/tasks", headers=worker_headers)
    assert resp.status_code == 200
    _security_headers_present(resp)
    assert resp.headers["Cache-Control"] == "no-store"


def test_an_error_answer_is_not_cached_either(client, worker_headers):
    resp = client.get("/api/v1/cases/999999", headers=worker_headers)
    assert resp.status_code == 404
    assert resp.headers["Cache-Control"] == "no-store"


def test_static_assets_stay_cacheable(client):
    resp = client.get("/static/css/carebridge.css")
    resp.close()
    assert resp.status_code == 200
    assert "no-store" not in resp.headers.get("Cache-Control", "")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_carries_inline_script():
    from engine.settings import ROOT

    for path in (ROOT / "web" / "templates").rglob("*.html"):
        text = path.read_text()
        for start in range(len(text)):
            if text.startswith("<script", start):
                tag = text[start : text.index(">", start)]
                assert "src=" in tag or 'type="application/json"' in tag, path
        assert " onclick=" not in text, path
        assert " onload=" not in text, path


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/cases/{BIG}",
        f"/api/v1/cases/{BIG}/timeline",
        f"/api/v1/tasks/{BIG}",
        f"/api/v1/process-instances/{2**64}",
        f"/api/v1/referrals/{10**30}",
    ],
)
def test_an_id_past_64_bits_is_404(client, worker_headers, path):
    assert client.get(path, headers=worker_headers).status_code == 404


def test_the_largest_64_bit_id_is_a_404(client, worker_headers):
    # A plain "no such case" on SQLite; past PostgreSQL's 32-bit integer keys, out of range.
    resp = client.get(f"/api/v1/cases/{BIG - 1}", headers=worker_headers)
    assert resp.status_code == 404


def test_a_query_number_past_64_bits_is_400(client, api_as):
    admin = api_as(factories.AdminFactory())
    assert client.get(f"/api/v1/audit?case={BIG}", headers=admin).status_code == 400


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "after",
    [
        "not-base64!",
        "%%%",
        _cursor([1]),
        _cursor({"due": 1}),
        _cursor(["2026-01-01T00:00:00+00:00", "x"]),
        _cursor(["2026-01-01T00:00:00", 3]),
        _cursor(["yesterday", 3]),
        _cursor(["2026-01-01T00:00:00+00:00", 2**70]),
        _cursor(["2026-01-01T00:00:00+00:00", True]),
        _cursor(["2026-01-01T00:00:00+00:00", 3, 4]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_malformed_inbox_cursor_is_400(client, worker_headers, after):
    resp = client.get("/api/v1/tasks", query_string={"after": after}, headers=worker_headers)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "bad_cursor"


def test_a_cursor_for_the_other_sort_is_400(client, worker_headers):
    after = _cursor(["2026-01-01T00:00:00+00:00", 3])
    resp = client.get(
        "/api/v1/tasks", query_string={"after": after, "sort": "priority"}, headers=worker_headers
    )
    assert resp.status_code == 400


def test_a_good_cursor_still_pages(client, worker_headers):
    after = _cursor(["2026-01-01T00:00:00+00:00", 3])
    resp = client.get(
        "/api/v1/tasks", query_string={"sort": "due", "after": after}, headers=worker_headers
    )
    assert resp.status_code == 200
    # The default order (crisis first, main's inbox branch) keys its cursor with the rank.
    after = _cursor([0, "2026-01-01T00:00:00+00:00", 3])
    resp = client.get("/api/v1/tasks", query_string={"after": after}, headers=worker_headers)
    assert resp.status_code == 200


@pytest.mark.parametrize("depth", [40, 500, 100_000])
def test_json_nested_too_deep_is_400(client, worker_headers, depth):
    body = '{"client": ' + "[" * depth + "]" * depth + "}"
    resp = client.post(
        "/api/v1/cases", data=body, content_type="application/json", headers=worker_headers
    )
    assert resp.status_code == 400


def test_json_nested_a_little_is_read_as_usual(client, worker_headers):
    body = {"name": "x", "case_id": 999999, "payload": {"a": {"b": {"c": [[[1]]]}}}}
    resp = client.post("/api/v1/messages", json=body, headers=worker_headers)
    assert resp.status_code == 404  # read, then refused for the unknown case


# ---------------------------------------------------------------- case pathways ----
@pytest.mark.parametrize("pathway", ["referral", "crisis_intervention", "discharge_followup"])
def test_only_a_case_pathway_opens_a_case(client, worker_headers, pathway):
    from tests.web.api.conftest import new_case_body

    resp = client.post(
        "/api/v1/cases", json={**new_case_body(), "pathway": pathway}, headers=worker_headers
    )
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["pathway"]


def test_the_shipped_care_pathway_is_marked(session):
    definition = definitions.latest_definition(session, "care_pathway")
    assert definitions.is_case_pathway(definition)


# ---------------------------------------------------------------- download ---------
FOREIGN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs" targetNamespace="http://carebridge.example/bpmn">
  <bpmn:process id="ケア_フォロー" name="Follow-up" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_process_id_in_any_script_downloads(client, session, clock):
    [result] = definitions.deploy(
        session, {"follow.bpmn": FOREIGN.encode()}, forms={}, now=clock.now()
    )
    admin = factories.signed_in(client, factories.AdminFactory())
    resp = admin.get(f"/admin/processes/{result.definition.id}/download")
    assert resp.status_code == 200
    disposition = resp.headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('ケア_フォロー-v1.bpmn')}" in disposition
    assert disposition.encode("latin-1")  # a header the server can send
    assert resp.get_data(as_text=True) == FOREIGN


# ---------------------------------------------------------------- metrics ----------
def _app(session: Session, clock, **settings):  # type: ignore[no-untyped-def]
    sessions = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return create_app(
        load_settings(database_url="sqlite://", secret_key="t", testing=True, **settings),
        sessions=sessions,
        clock=clock,
    )


def test_metrics_want_the_token_when_one_is_set(session, clock):
    client = _app(session, clock, metrics_token="s3cret-scrape").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert ok.status_code == 200
    assert "carebridge_database_up" in ok.get_data(as_text=True)


def test_metrics_without_a_token_answer_loopback_only(session, clock, monkeypatch):
    monkeypatch.delenv("CAREBRIDGE_METRICS_TOKEN", raising=False)
    client = _app(session, clock).test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 401
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_invented_methods_and_paths_fold_into_other(client):
    for n in range(5):
        client.open("/api/v1/tasks", method=f"BREW{n}")
        client.get(f"/no/such/page/{n}")
    text = client.get("/metrics").get_data(as_text=True)
    assert "BREW" not in text
    assert "/no/such" not in text
    assert 'method="other"' in text
    assert 'endpoint="other"' in text


def test_metrics_series_do_not_grow_with_invented_paths(client):
    def series() -> int:
        return sum(
            1
            for line in client.get("/metrics").get_data(as_text=True).splitlines()
            if line.startswith("carebridge_http_requests_total{")
        )

    client.get("/no/such/page/0")
    series()  # the scrape itself is counted once, under its endpoint
    before = series()
    for n in range(1, 20):
        client.get(f"/no/such/page/{n}")
    assert series() == before
