"""What the Schemathesis run (tests/e2e/test_api_schema.py) found, pinned as plain tests:
each was a 500 or an answer the API document did not describe."""

from __future__ import annotations

import pytest

from web.converters import MAX_ROW_ID

from .conftest import new_case_body


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/tasks/{MAX_ROW_ID + 1}/release",
        f"/api/v1/consents/{2**80}/revoke",
        f"/api/v1/clients/{MAX_ROW_ID + 1}/consents",
    ],
)
def test_an_id_beyond_any_row_is_404_not_500(api, url):
    resp = api.post(url, "admin", {"recipient": "Food bank"})
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_a_get_of_an_id_beyond_any_row_is_404(api):
    assert api.get(f"/api/v1/cases/{MAX_ROW_ID + 1}", "admin").status_code == 404


def test_the_largest_row_id_still_reaches_the_view(api):
    resp = api.get(f"/api/v1/cases/{MAX_ROW_ID}", "admin")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] != "not_found"  # the view's own "no such case"


def test_an_undeclared_method_is_405_with_allow(api):
    resp = api.client.open("/api/v1/cases", method="TRACE", headers=api.as_("sw"))
    assert resp.status_code == 405
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"POST", "OPTIONS"}


def test_a_birth_date_that_is_not_text_is_422_naming_it(api):
    body = new_case_body()
    body["client"]["birth_date"] = {}
    resp = api.post("/api/v1/cases", "sw", body)
    assert resp.status_code == 422
    assert {d["field"] for d in resp.get_json()["error"]["details"]} == {"client.birth_date"}


def test_a_reason_longer_than_documented_is_422(api):
    resp = api.post("/api/v1/cases", "sw", {**new_case_body(), "reason": "x" * 4001})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][0]["field"] == "reason"


def test_an_audit_case_beyond_any_row_is_400(api):
    assert api.get(f"/api/v1/audit?case={MAX_ROW_ID + 1}", "admin").status_code == 400


def test_a_message_for_a_case_id_beyond_any_row_is_422(api):
    resp = api.post("/api/v1/messages", "admin", {"name": "discharge", "case_id": MAX_ROW_ID + 1})
    assert resp.status_code == 422
    assert {d["field"] for d in resp.get_json()["error"]["details"]} == {"case_id"}


def test_nul_in_a_json_body_is_422_naming_the_field(api):
    resp = api.post("/api/v1/tasks/1/assign", "admin", {"user": "ale\x00x"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"] == [
        {"field": "user", "message": "Must not contain NUL."}
    ]


def test_nul_deep_in_a_json_body_names_its_path(api):
    body = new_case_body()
    body["client"]["phone"] = "555\x00"
    resp = api.post("/api/v1/cases", "sw", body)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][0]["field"] == "client.phone"


def test_nul_in_a_query_parameter_is_400(api):
    resp = api.get("/api/v1/resources?need=fo%00od", "admin")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "bad_parameter"
