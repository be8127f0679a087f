"""GET /api/v1/reports/<name> and the diagram heat: contracts, CSV shape, permissions."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.reports import REPORT_NAMES
from tests.report_history import History, utc

PERIOD = "from=2026-02-23&to=2026-03-01"


@pytest.fixture
def history(session) -> History:  # type: ignore[no-untyped-def]
    return History(session)


def _caseload(api, history) -> None:  # type: ignore[no-untyped-def]
    sw, sw2 = api.users["sw"], api.users["sw2"]
    history.case(worker=sw, opened_at=utc(24))
    history.case(worker=sw2)
    history.task("intake", assignee_id=sw.id, created=utc(20), due=utc(1, month=3))


def test_a_report_is_json_with_its_name_period_and_rows(api, history):
    _caseload(api, history)
    resp = api.get(f"/api/v1/reports/caseload?{PERIOD}", "supervisor")
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["report"], body["from"], body["to"]) == ("caseload", "2026-02-23", "2026-03-01")
    assert [r["user"] for r in body["rows"]] == ["alex", "sam"]


def test_a_report_with_totals_carries_them(api, history):
    history.case(discharged_at=utc(24), discharge_disposition="home")
    body = api.get(f"/api/v1/reports/tcm?{PERIOD}", "supervisor").get_json()
    assert body["totals"]["discharges"] == 1


def test_csv_has_a_header_row_and_one_row_per_bucket(api, history):
    _caseload(api, history)
    resp = api.get(f"/api/v1/reports/caseload?{PERIOD}&format=csv", "admin")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows == [
        [
            "user",
            "name",
            "open_cases",
            "new_this_period",
            "closed",
            "open_tasks",
            "overdue",
            "stat_in_period",
        ],
        ["alex", "Alex", "1", "1", "0", "1", "1", "0"],
        ["sam", "Sam", "1", "0", "0", "0", "0", "0"],
    ]


def test_csv_cells_never_start_a_spreadsheet_formula(api, history):
    case = history.case()
    history.referral("food", "=HYPERLINK(1)", case=case, sent=utc(24), events=[])
    text = api.get(f"/api/v1/reports/referrals?{PERIOD}&format=csv", "admin").get_data(True)
    assert list(csv.reader(io.StringIO(text)))[1][1] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-03-02&to=2026-03-01",
        "from=2026-02-30&to=2026-03-01",
        "to=2026-03-01",
        "from=2026-02-23T00:00&to=2026-03-01",
        f"{PERIOD}&format=xml",
    ],
)
def test_bad_periods_and_formats_are_400(api, query):
    resp = api.get(f"/api/v1/reports/tasks?{query}", "supervisor")
    assert resp.status_code == 400
    assert "error" in resp.get_json()


def test_an_unknown_report_is_404(api):
    assert api.get(f"/api/v1/reports/payroll?{PERIOD}", "supervisor").status_code == 404


def test_break_glass_report_still_answers(api):
    resp = api.get("/api/v1/reports/break-glass", "supervisor")
    assert resp.status_code == 200
    assert resp.get_json() == {"uses": []}


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_supervisors_and_admins_see_every_report(api, name):
    for who in ("supervisor", "admin"):
        assert api.get(f"/api/v1/reports/{name}?{PERIOD}", who).status_code == 200


@pytest.mark.parametrize("name", [n for n in REPORT_NAMES if n != "caseload"])
def test_a_social_worker_gets_403_on_the_other_reports(api, name):
    assert api.get(f"/api/v1/reports/{name}?{PERIOD}", "sw").status_code == 403


def test_a_social_worker_sees_only_their_own_caseload_row(api, history):
    _caseload(api, history)
    rows = api.get(f"/api/v1/reports/caseload?{PERIOD}", "sw").get_json()["rows"]
    assert [r["user"] for r in rows] == ["alex"]


def test_a_social_worker_cannot_ask_for_a_colleagues_row(api):
    assert api.get(f"/api/v1/reports/caseload?{PERIOD}&user=sam", "sw").status_code == 403


def test_other_roles_get_403_even_on_caseload(api):
    assert api.get(f"/api/v1/reports/caseload?{PERIOD}", "nurse").status_code == 403


def test_user_filter_keeps_one_worker_for_a_supervisor(api, history):
    _caseload(api, history)
    rows = api.get(f"/api/v1/reports/caseload?{PERIOD}&user=sam", "supervisor").get_json()["rows"]
    assert [r["user"] for r in rows] == ["sam"]


def test_heat_counts_open_tasks_and_their_median_wait(api, session, clock):
    opened = api.open_case()
    clock.advance(timedelta(minutes=90))
    instance = session.get(ProcessInstance, opened["instance_id"])
    resp = api.get(f"/api/v1/process-definitions/{instance.definition_id}/heat", "admin")
    assert resp.status_code == 200
    open_ids = session.scalars(
        select(HumanTask.bpmn_id).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open"
        )
    ).all()
    assert resp.get_json()["elements"] == {
        bpmn_id: {"open": 1, "median_wait_minutes": 90.0} for bpmn_id in open_ids
    }


def test_heat_is_for_supervisors_and_admins(api, session):
    definition_id = session.scalar(select(ProcessInstance.definition_id).limit(1)) or 1
    assert api.get(f"/api/v1/process-definitions/{definition_id}/heat", "sw").status_code == 403


def test_heat_of_an_unknown_definition_is_404(api):
    assert api.get("/api/v1/process-definitions/999999/heat", "admin").status_code == 404
