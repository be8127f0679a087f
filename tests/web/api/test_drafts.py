"""GET/PUT/DELETE /api/v1/tasks/<id>/draft: a person's unsent answers, sealed at rest."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.drafts import TaskDraft

from .conftest import INTAKE

SECRET_TEXT = "Daughter Maria Lopez, 555-0142, worried about eviction"


def _intake(api):  # type: ignore[no-untyped-def]
    opened = api.open_case()
    return opened["id"], api.open_task(opened["id"], "intake")["id"]


def _put(api, task_id, data, who="sw"):  # type: ignore[no-untyped-def]
    return api.client.put(
        f"/api/v1/tasks/{task_id}/draft", headers=api.as_(who), json={"data": data}
    )


def test_a_saved_draft_reads_back_with_its_time(api, clock):
    _, task_id = _intake(api)
    saved = _put(api, task_id, {"coping": [SECRET_TEXT]})
    assert saved.status_code == 200
    assert saved.get_json() == {"saved_at": clock.now().isoformat()}
    got = api.get(f"/api/v1/tasks/{task_id}/draft")
    assert got.status_code == 200
    assert got.get_json() == {
        "data": {"coping": [SECRET_TEXT]},
        "saved_at": clock.now().isoformat(),
    }


def test_no_draft_is_404(api):
    _, task_id = _intake(api)
    resp = api.get(f"/api/v1/tasks/{task_id}/draft")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "draft_not_found"


def test_saving_again_replaces_the_draft(api, clock):
    _, task_id = _intake(api)
    _put(api, task_id, {"coping": ["first"]})
    clock.advance(timedelta(seconds=5))
    _put(api, task_id, {"coping": ["second"]})
    body = api.get(f"/api/v1/tasks/{task_id}/draft").get_json()
    assert body == {"data": {"coping": ["second"]}, "saved_at": clock.now().isoformat()}


def test_the_stored_bytes_do_not_hold_the_plaintext(api, session):
    _, task_id = _intake(api)
    _put(api, task_id, {"coping": [SECRET_TEXT]})
    stored = session.scalars(select(TaskDraft.ciphertext).where(TaskDraft.task_id == task_id)).one()
    assert len(stored) > len(SECRET_TEXT)
    assert SECRET_TEXT.encode() not in stored
    assert b"Maria" not in stored
    assert b"coping" not in stored


def test_a_draft_is_its_authors_own(api):
    case_id, task_id = _intake(api)
    _put(api, task_id, {"coping": [SECRET_TEXT]})
    assert api.get(f"/api/v1/tasks/{task_id}/draft", "supervisor").status_code == 404


def test_someone_who_may_not_work_the_task_cannot_save_one(api):
    _, task_id = _intake(api)
    assert _put(api, task_id, {"x": ["y"]}, who="supervisor").status_code == 403


def test_a_body_without_data_is_400(api):
    _, task_id = _intake(api)
    resp = api.client.put(f"/api/v1/tasks/{task_id}/draft", headers=api.as_("sw"), json={})
    assert resp.status_code == 400


def test_delete_drops_the_draft(api):
    _, task_id = _intake(api)
    _put(api, task_id, {"coping": ["x"]})
    resp = api.client.delete(f"/api/v1/tasks/{task_id}/draft", headers=api.as_("sw"))
    assert resp.status_code == 204
    assert api.get(f"/api/v1/tasks/{task_id}/draft").status_code == 404


def test_completing_the_task_deletes_its_drafts(api, session):
    _, task_id = _intake(api)
    _put(api, task_id, {"coping": ["x"]})
    assert api.complete(task_id, INTAKE).status_code == 200
    assert session.scalars(select(TaskDraft).where(TaskDraft.task_id == task_id)).all() == []


def test_a_closed_task_takes_no_draft(api):
    _, task_id = _intake(api)
    api.complete(task_id, INTAKE)
    assert _put(api, task_id, {"coping": ["x"]}).status_code == 409


def test_reassigning_drops_the_previous_holders_draft_and_marks_the_task(api, session):
    _, task_id = _intake(api)
    _put(api, task_id, {"coping": ["x"]})
    resp = api.post(f"/api/v1/tasks/{task_id}/assign", "supervisor", {"user": "sam"})
    assert resp.status_code == 200
    assert session.scalars(select(TaskDraft).where(TaskDraft.task_id == task_id)).all() == []
    from engine.inbox import HumanTask

    assert session.get(HumanTask, task_id).draft_discarded_at is not None


def test_saving_and_reading_are_audited_with_ids_only(api):
    case_id, task_id = _intake(api)
    _put(api, task_id, {"coping": [SECRET_TEXT]})
    api.get(f"/api/v1/tasks/{task_id}/draft")
    events = api.get(f"/api/v1/audit?case={case_id}", "admin").get_json()["events"]
    drafts = [e for e in events if e["action"].startswith("case:task:draft:")]
    assert [e["action"] for e in drafts] == ["case:task:draft:viewed", "case:task:draft:saved"]
    assert all(e["task_id"] == task_id for e in drafts)
    assert SECRET_TEXT not in str(drafts)


def test_a_draft_sealed_under_another_key_reads_as_absent(api, session):
    from engine.drafts import DraftCipher

    _, task_id = _intake(api)
    _put(api, task_id, {"coping": ["x"]})
    row = session.scalars(select(TaskDraft).where(TaskDraft.task_id == task_id)).one()
    row.ciphertext = DraftCipher(secret_key="another install").seal({"coping": ["x"]})
    session.flush()
    assert api.get(f"/api/v1/tasks/{task_id}/draft").status_code == 404


def test_autosaves_a_minute_apart_are_audited_once(api, clock):
    case_id, task_id = _intake(api)
    for _ in range(3):
        _put(api, task_id, {"coping": ["x"]})
        clock.advance(timedelta(minutes=1))
    events = api.get(f"/api/v1/audit?case={case_id}", "admin").get_json()["events"]
    assert [e["action"] for e in events].count("case:task:draft:saved") == 1


def test_a_save_after_a_long_pause_is_audited_again(api, clock):
    case_id, task_id = _intake(api)
    _put(api, task_id, {"coping": ["x"]})
    clock.advance(timedelta(minutes=20))
    _put(api, task_id, {"coping": ["y"]})
    events = api.get(f"/api/v1/audit?case={case_id}", "admin").get_json()["events"]
    assert [e["action"] for e in events].count("case:task:draft:saved") == 2
