"""Record-level access: who reads a case, on what basis, break-glass and its expiry."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, inbox, pages_view
from engine.audit import AuditEvent, AuditTag
from engine.cases import team as care_team
from engine.cases.models import Case
from engine.clock import FrozenClock
from engine.errors import Invalid
from tests.engine.conftest import Driver, Team
from tests.factories import AdminFactory, UserFactory


def _basis(session: Session, user, case: Case, clock: FrozenClock):  # type: ignore[no-untyped-def]
    granted = access.case_access(session, user=user, case=case, now=clock.now())
    return granted.basis if granted is not None else None


def _events(session: Session, action: str) -> list[AuditEvent]:
    session.flush()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_the_primary_social_worker_reads_as_care_team(session, drive: Driver, team: Team, clock):
    case = drive.open_case()
    assert _basis(session, team.worker, case, clock) is access.Basis.CARE_TEAM


def test_a_colleague_of_the_same_role_off_the_team_may_not_read(
    session, drive: Driver, team: Team, clock
):
    case = drive.open_case()  # intake is with the primary worker: nothing queued
    assert _basis(session, team.colleague, case, clock) is None
    with pytest.raises(access.RecordAccessDenied) as refused:
        access.require_case_read(session, user=team.colleague, case_id=case.id, now=clock.now())
    assert (refused.value.case_id, refused.value.client_id) == (case.id, case.client_id)


def test_a_member_added_to_the_team_reads_and_loses_it_when_removed(
    session, drive: Driver, team: Team, clock
):
    case = drive.open_case()
    member = care_team.add_member(
        session,
        case_id=case.id,
        case_role="nurse",
        at=clock.now(),
        added_by_id=team.worker.id,
        user_id=team.nurse.id,
    )
    assert _basis(session, team.nurse, case, clock) is access.Basis.CARE_TEAM
    care_team.end_membership(
        session, case_id=case.id, member_id=member.id, at=clock.now(), removed_by_id=None
    )
    assert _basis(session, team.nurse, case, clock) is None


def test_the_holder_of_one_of_its_tasks_reads_it(session, drive: Driver, team: Team, clock):
    case = drive.open_case()
    [task] = drive.open_tasks(case).values()
    inbox.assign_task(
        session, task_id=task.id, username=team.colleague.username, actor=team.worker, clock=clock
    )
    assert _basis(session, team.colleague, case, clock) is access.Basis.TASK_HOLDER


def test_an_unclaimed_task_in_a_queue_of_ones_role_lets_one_read(
    session, drive: Driver, team: Team, clock
):
    case = drive.open_case()
    [task] = drive.open_tasks(case).values()
    inbox.release_task(session, task_id=task.id, actor=team.worker, clock=clock)
    assert _basis(session, team.colleague, case, clock) is access.Basis.QUEUE
    assert _basis(session, team.nurse, case, clock) is None


def test_supervisors_and_admins_read_every_case_only_supervisors_see_sensitive_parts(
    session, drive: Driver, team: Team, clock
):
    case = drive.open_case()
    admin = AdminFactory()
    sup = access.case_access(session, user=team.supervisor, case=case, now=clock.now())
    adm = access.case_access(session, user=admin, case=case, now=clock.now())
    assert sup is not None
    assert adm is not None
    assert (sup.basis, sup.sensitive) == (access.Basis.MANAGER, True)
    assert (adm.basis, adm.sensitive) == (access.Basis.MANAGER, False)


def test_a_nurse_who_opens_a_case_joins_its_care_team(session, drive: Driver, team: Team, clock):
    from engine import cases
    from tests.factories import client_payload

    case, _ = cases.open_case(
        session, client=client_payload(), reason="Referral", actor=team.nurse, clock=clock
    )
    [member] = care_team.current_members(session, case_id=case.id)
    assert (member.user_id, member.case_role) == (team.nurse.id, "nurse")
    assert _basis(session, team.nurse, case, clock) is access.Basis.CARE_TEAM


# ---------------------------------------------------------------- break-glass ------
@pytest.mark.parametrize("reason", [None, "", "   ", 42])
def test_break_glass_needs_a_reason(session, drive: Driver, team: Team, clock, reason):
    case = drive.open_case()
    with pytest.raises(Invalid) as refused:
        access.break_glass(
            session, case_id=case.id, reason=reason, actor=team.colleague, clock=clock
        )
    assert [d["field"] for d in refused.value.details] == ["reason"]


def test_break_glass_grants_time_limited_access(session, drive: Driver, team: Team, clock):
    case = drive.open_case()
    grant = access.break_glass(
        session,
        case_id=case.id,
        reason="ED admission, unconscious",
        actor=team.colleague,
        clock=clock,
        minutes=30,
    )
    granted = access.case_access(session, user=team.colleague, case=case, now=clock.now())
    assert granted is not None
    assert (granted.basis, granted.sensitive) == (access.Basis.BREAK_GLASS, False)
    assert granted.break_glass_until == grant.expires_at
    clock.advance(minutes=29)
    assert _basis(session, team.colleague, case, clock) is access.Basis.BREAK_GLASS
    clock.advance(minutes=1)
    assert _basis(session, team.colleague, case, clock) is None


def test_break_glass_is_audited_without_its_reason(session, drive: Driver, team: Team, clock):
    case = drive.open_case()
    grant = access.break_glass(
        session, case_id=case.id, reason="Family called", actor=team.colleague, clock=clock
    )
    [row] = _events(session, AuditTag.BREAK_GLASS)
    assert (row.actor_id, row.case_id, row.client_id) == (
        team.colleague.id,
        case.id,
        case.client_id,
    )
    assert row.details == {"grant_id": grant.id, "minutes": 60, "break_glass": True}


def test_a_user_without_any_role_cannot_break_the_glass(session, drive: Driver, clock):
    from engine.errors import Forbidden

    case = drive.open_case()
    with pytest.raises(Forbidden):
        access.break_glass(session, case_id=case.id, reason="x", actor=UserFactory(), clock=clock)


# ---------------------------------------------------------------- lists ------------
def test_the_case_list_holds_only_readable_cases_and_break_glass_ones(
    session, drive: Driver, team: Team, clock
):
    mine = drive.open_case(family_name="Mine")
    other = drive.open_case(family_name="Other")
    glass = drive.open_case(family_name="Glass")
    care_team.add_member(
        session,
        case_id=mine.id,
        case_role="other",
        at=clock.now(),
        added_by_id=None,
        user_id=team.colleague.id,
    )
    access.break_glass(
        session, case_id=glass.id, reason="Covering", actor=team.colleague, clock=clock
    )
    rows = pages_view.find_cases(session, actor=team.colleague, clock=clock)
    assert [c.id for c in rows] == [glass.id, mine.id]
    assert other.id not in [c.id for c in rows]


def test_a_list_read_leaves_one_audit_row_naming_the_cases(
    session, drive: Driver, team: Team, clock
):
    first, second = drive.open_case(), drive.open_case()
    pages_view.find_cases(session, actor=team.worker, clock=clock, name="diaz")
    [row] = _events(session, AuditTag.CASE_LIST_VIEWED)
    assert row.actor_id == team.worker.id
    assert row.details == {"count": 2, "case_ids": [second.id, first.id], "search": True}


# ---------------------------------------------------------------- masking ----------
def test_the_assessment_forms_substance_use_field_is_sensitive():
    import json

    from engine.settings import ROOT

    schema = json.loads((ROOT / "forms" / "assessment.schema.json").read_text())
    assert access.sensitive_fields([schema]) == {"substance_use"}


def test_mask_data_hides_a_sensitive_field_at_any_depth_and_keeps_the_rest():
    data = {"assessment": {"substance_use": "Daily", "coping": "Walks"}, "screening": {"x": 1}}
    masked = access.mask_data(data, frozenset({"substance_use"}))
    assert masked == {
        "assessment": {"substance_use": access.MASKED, "coping": "Walks"},
        "screening": {"x": 1},
    }
    assert data["assessment"]["substance_use"] == "Daily"  # the caller's data is untouched


@pytest.mark.parametrize(
    ("instrument", "answers", "hidden"),
    [
        ("cssrs", {"q1": True, "q2": False, "q6": False}, ["q1", "q2", "q6"]),
        ("phq9", {"q1": 1, "q9": 2}, ["q9"]),
        ("ahc_hrsn", {"q1": "steady", "q7": 1, "q10": 5}, ["q10", "q7"]),
        ("gad7", {"q1": 3}, []),
    ],
)
def test_mask_answers_hides_only_the_sensitive_items(instrument, answers, hidden):
    shown, masked = access.mask_answers(instrument, answers, sensitive=False)
    assert masked == hidden
    assert {k for k, v in shown.items() if v is None} == set(hidden)
    assert access.mask_answers(instrument, answers, sensitive=True) == (answers, [])


def test_timeline_details_lose_sensitive_keys_for_readers_off_the_team():
    details = {"note_id": 4, "body": "Talked about drinking", "sensitive": True}
    assert access.mask_details(details, sensitive=False) == {
        "note_id": 4,
        "body": access.MASKED,
        "sensitive": True,
    }
    assert access.mask_details(details, sensitive=True) == details
