"""The care team of a case: who counts as a member."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from engine.cases import team as care_team
from engine.cases.models import CareTeamMember
from engine.clock import FrozenClock
from engine.errors import Invalid, NotFound
from tests.engine.conftest import Driver, Team


def _add_nurse(session: Session, case_id: int, team: Team, clock: FrozenClock) -> CareTeamMember:
    return care_team.add_member(
        session,
        case_id=case_id,
        case_role="nurse",
        at=clock.now(),
        added_by_id=team.worker.id,
        user_id=team.nurse.id,
    )


def test_primary_social_worker_is_a_member_without_a_row(
    session: Session, drive: Driver, team: Team
) -> None:
    case = drive.open_case()
    assert case.primary_social_worker_id == team.worker.id
    assert care_team.is_member(session, case_id=case.id, user_id=team.worker.id)
    assert care_team.current_members(session, case_id=case.id) == []


def test_added_user_is_a_member_until_removed(
    session: Session, drive: Driver, team: Team, clock: FrozenClock
) -> None:
    case = drive.open_case()
    assert not care_team.is_member(session, case_id=case.id, user_id=team.nurse.id)
    member = _add_nurse(session, case.id, team, clock)
    assert care_team.is_member(session, case_id=case.id, user_id=team.nurse.id)
    care_team.end_membership(
        session, case_id=case.id, member_id=member.id, at=clock.now(), removed_by_id=None
    )
    assert not care_team.is_member(session, case_id=case.id, user_id=team.nurse.id)


def test_member_of_another_case_is_not_a_member(
    session: Session, drive: Driver, team: Team, clock: FrozenClock
) -> None:
    first, second = drive.open_case(), drive.open_case()
    _add_nurse(session, first.id, team, clock)
    assert not care_team.is_member(session, case_id=second.id, user_id=team.nurse.id)


def test_external_member_needs_a_name(session: Session, drive: Driver, clock: FrozenClock) -> None:
    case = drive.open_case()
    with pytest.raises(Invalid) as err:
        care_team.add_member(
            session, case_id=case.id, case_role="other", at=clock.now(), added_by_id=None
        )
    assert err.value.details[0]["field"] == "name"


def test_unknown_case_role_is_refused(session: Session, drive: Driver, clock: FrozenClock) -> None:
    case = drive.open_case()
    with pytest.raises(Invalid) as err:
        care_team.add_member(
            session,
            case_id=case.id,
            case_role="friend",
            at=clock.now(),
            added_by_id=None,
            name="A. Neighbour",
        )
    assert err.value.details[0]["field"] == "case_role"


def test_ending_a_membership_twice_is_not_found(
    session: Session, drive: Driver, team: Team, clock: FrozenClock
) -> None:
    case = drive.open_case()
    member = _add_nurse(session, case.id, team, clock)
    care_team.end_membership(
        session, case_id=case.id, member_id=member.id, at=clock.now(), removed_by_id=None
    )
    with pytest.raises(NotFound):
        care_team.end_membership(
            session, case_id=case.id, member_id=member.id, at=clock.now(), removed_by_id=None
        )
