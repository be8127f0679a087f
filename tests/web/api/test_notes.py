"""Progress notes: POST/GET /cases/<id>/notes, GET /notes/<id>, addenda, immutability,
co-signature of an intern's note and @mentions reaching the inbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.audit import AuditEvent
from tests.factories import SocialWorkerFactory

ADVOCACY = {
    "type": "advocacy",
    "body": "Called the insurer about the denied rehab stay.",
    "minutes": 25,
    "fields": {
        "organisation": "Acme Health Plan",
        "issue": "insurance denial",
        "outcome": "Appeal filed",
        "next_step": "Call back",
        "next_step_date": "2026-03-09",
    },
}


def _write(api, case_id: int, body: dict, who: str = "sw"):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/cases/{case_id}/notes", who, body)


def _note(api, case_id: int, who: str = "sw", **body):  # type: ignore[no-untyped-def]
    resp = _write(api, case_id, {"type": "other", "body": "Spoke with the client.", **body}, who)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["note"]


@pytest.fixture
def intern(api, api_as):  # type: ignore[no-untyped-def]
    """An intern social worker supervised by morgan."""
    user = SocialWorkerFactory(username="ivy", is_intern=True)
    user.supervisor_id = api.users["supervisor"].id
    api.users["intern"] = user
    api.headers["intern"] = api_as(user)
    return user


def test_a_note_is_signed_by_its_writer_when_saved(api):
    case_id = api.open_case()["id"]
    resp = _write(api, case_id, ADVOCACY)
    assert resp.status_code == 201, resp.get_json()
    note = resp.get_json()["note"]
    assert (note["type"], note["signed_by"], note["status"]) == ("advocacy", "alex", "signed")
    assert note["signed_at"] is not None
    assert note["fields"]["issue"] == "insurance denial"


def test_a_template_field_outside_its_choices_is_a_422_naming_it(api):
    case_id = api.open_case()["id"]
    body = {**ADVOCACY, "fields": {**ADVOCACY["fields"], "issue": "parking"}}
    resp = _write(api, case_id, body)
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["fields.issue"]


def test_a_missing_template_field_is_a_422_naming_it(api):
    case_id = api.open_case()["id"]
    fields = {k: v for k, v in ADVOCACY["fields"].items() if k != "organisation"}
    resp = _write(api, case_id, {**ADVOCACY, "fields": fields})
    assert resp.status_code == 422
    assert "fields.organisation" in [d["field"] for d in resp.get_json()["error"]["details"]]


def test_an_unknown_note_type_is_a_422_naming_type(api):
    case_id = api.open_case()["id"]
    resp = _write(api, case_id, {"type": "gossip", "body": "x"})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["type"]


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_note_cannot_be_changed_or_deleted(api, method):
    case_id = api.open_case()["id"]
    note = _note(api, case_id)
    send = getattr(api.client, method)
    resp = send(f"/api/v1/notes/{note['id']}", headers=api.as_("sw"), json={"body": "new"})
    assert resp.status_code == 405
    assert "GET" in resp.headers["Allow"]
    again = api.get(f"/api/v1/notes/{note['id']}").get_json()["note"]
    assert again["body"] == "Spoke with the client."


def test_an_addendum_is_added_beside_the_unchanged_note(api):
    case_id = api.open_case()["id"]
    note = _note(api, case_id)
    resp = api.post(f"/api/v1/notes/{note['id']}/addenda", "sw", {"body": "Daughter called."})
    assert resp.status_code == 201, resp.get_json()
    read = api.get(f"/api/v1/notes/{note['id']}").get_json()["note"]
    assert read["body"] == "Spoke with the client."
    assert [(a["body"], a["author"]) for a in read["addenda"]] == [("Daughter called.", "alex")]


def test_an_empty_addendum_is_a_422_naming_body(api):
    case_id = api.open_case()["id"]
    note = _note(api, case_id)
    resp = api.post(f"/api/v1/notes/{note['id']}/addenda", "sw", {"body": " "})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][0]["field"] == "body"


def test_notes_are_listed_newest_first_and_filtered_by_type(api, clock):
    case_id = api.open_case()["id"]
    first = _note(api, case_id)
    clock.advance(minutes=5)
    second = _write(api, case_id, ADVOCACY).get_json()["note"]
    listed = api.get(f"/api/v1/cases/{case_id}/notes").get_json()["notes"]
    assert [n["id"] for n in listed] == [second["id"], first["id"]]
    only = api.get(f"/api/v1/cases/{case_id}/notes?type=advocacy").get_json()["notes"]
    assert [n["id"] for n in only] == [second["id"]]


def test_notes_are_searched_by_text(api):
    case_id = api.open_case()["id"]
    _note(api, case_id, body="Discussed the landlord's eviction notice.")
    _note(api, case_id, body="Brief check-in.")
    found = api.get(f"/api/v1/cases/{case_id}/notes?q=EVICTION").get_json()["notes"]
    assert [n["body"] for n in found] == ["Discussed the landlord's eviction notice."]


def test_a_reader_off_the_care_team_gets_403(api):
    case_id = api.open_case()["id"]
    note = _note(api, case_id)
    assert api.get(f"/api/v1/notes/{note['id']}", "sw2").status_code == 403
    assert api.get(f"/api/v1/cases/{case_id}/notes", "sw2").status_code == 403


def test_a_sensitive_note_is_masked_for_an_admin_off_the_team(api):
    case_id = api.open_case()["id"]
    note = _note(api, case_id, body="Discloses heroin use.", sensitive=True)
    read = api.get(f"/api/v1/notes/{note['id']}", "admin").get_json()["note"]
    assert (read["masked"], read["body"]) == (True, "[hidden: care team only]")
    own = api.get(f"/api/v1/notes/{note['id']}", "sw").get_json()["note"]
    assert own["body"] == "Discloses heroin use."


def test_a_masked_note_is_not_found_by_its_text(api):
    case_id = api.open_case()["id"]
    _note(api, case_id, body="Discloses heroin use.", sensitive=True)
    found = api.get(f"/api/v1/cases/{case_id}/notes?q=heroin", "admin").get_json()["notes"]
    assert found == []


def test_the_note_is_on_the_timeline_without_its_text(api, session):
    case_id = api.open_case()["id"]
    note = _note(api, case_id, body="Very private words.")
    events = api.get(f"/api/v1/cases/{case_id}/timeline").get_json()["events"]
    written = [e for e in events if e["action"] == "case:note:written"]
    assert [e["details"] for e in written] == [{"note_id": note["id"], "type": "other"}]
    rows = session.scalars(select(AuditEvent.details).where(AuditEvent.case_id == case_id))
    assert not any("Very private words." in str(d) for d in rows)


def test_an_interns_note_awaits_co_signature_with_a_task_for_their_supervisor(api, intern):
    case_id = api.open_case()["id"]
    api.join_team(case_id, "intern")
    note = _note(api, case_id, who="intern")
    assert note["status"] == "awaiting co-signature"
    tasks = api.get("/api/v1/tasks?view=mine", "supervisor").get_json()["tasks"]
    cosign = [t for t in tasks if t["kind"] == "cosign"]
    assert [t["case_id"] for t in cosign] == [case_id]


def test_a_supervisor_co_signs_and_the_task_closes(api, intern):
    case_id = api.open_case()["id"]
    api.join_team(case_id, "intern")
    note = _note(api, case_id, who="intern")
    resp = api.post(f"/api/v1/notes/{note['id']}/cosign", "supervisor", {})
    assert resp.status_code == 200, resp.get_json()
    signed = resp.get_json()["note"]
    assert (signed["status"], signed["cosigned_by"]) == ("signed", "morgan")
    tasks = api.get("/api/v1/tasks?view=mine", "supervisor").get_json()["tasks"]
    assert [t for t in tasks if t["kind"] == "cosign"] == []


def test_a_social_worker_cannot_co_sign(api, intern):
    case_id = api.open_case()["id"]
    api.join_team(case_id, "intern")
    note = _note(api, case_id, who="intern")
    assert api.post(f"/api/v1/notes/{note['id']}/cosign", "sw", {}).status_code == 403


def test_a_note_of_a_non_intern_needs_no_co_signature(api):
    case_id = api.open_case()["id"]
    note = _note(api, case_id)
    assert api.post(f"/api/v1/notes/{note['id']}/cosign", "supervisor", {}).status_code == 409


def _mentions(api, who: str):  # type: ignore[no-untyped-def]
    tasks = api.get("/api/v1/tasks?view=mine", who).get_json()["tasks"]
    return [t for t in tasks if t["kind"] == "mention"]


def test_a_mention_reaches_the_inbox_of_the_user_named(api):
    case_id = api.open_case()["id"]
    note = _note(api, case_id, type="family_meeting", body="Met the family; @kim please check.")
    [item] = _mentions(api, "nurse")
    assert item["case_id"] == case_id
    detail = api.get(f"/api/v1/tasks/{item['id']}", "nurse").get_json()["task"]
    assert detail["note_id"] == note["id"]


def test_a_mention_of_an_unknown_user_creates_nothing(api):
    case_id = api.open_case()["id"]
    _note(api, case_id, body="Ask @nobodyhere and mail x@kim.org.")
    assert _mentions(api, "nurse") == []


def test_the_mentioned_user_reads_the_case_while_the_item_is_open(api):
    case_id = api.open_case()["id"]
    _note(api, case_id, body="@sam can you cover Friday?")
    assert api.get(f"/api/v1/cases/{case_id}", "sw2").status_code == 200
    [item] = _mentions(api, "sw2")
    done = api.post(f"/api/v1/tasks/{item['id']}/complete", "sw2", {"data": {}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["task"]["status"] == "completed"
    assert api.get(f"/api/v1/cases/{case_id}", "sw2").status_code == 403


def test_only_the_mentioned_user_marks_the_mention_done(api):
    case_id = api.open_case()["id"]
    _note(api, case_id, body="@kim see above")
    [item] = _mentions(api, "nurse")
    resp = api.post(f"/api/v1/tasks/{item['id']}/complete", "sw", {"data": {}})
    assert resp.status_code == 403
