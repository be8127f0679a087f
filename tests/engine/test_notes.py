"""Progress notes in the engine: who @mentions reach, and the demo intern."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import demo, notes
from engine.accounts.models import User
from engine.clock import FrozenClock
from engine.inbox.models import HumanTask
from tests import factories
from tests.engine.conftest import Driver, Team


def test_mentions_name_existing_active_users_only(session: Session) -> None:
    factories.NurseFactory(username="kim")
    factories.SocialWorkerFactory(username="sam", active=False)
    found = notes.mentioned_users(session, "@kim and @sam, cc @ghost; mail kim@x.org.")
    assert [u.username for u in found] == ["kim"]


def test_a_mention_at_the_end_of_a_sentence_is_found(session: Session) -> None:
    factories.NurseFactory(username="kim")
    assert [u.username for u in notes.mentioned_users(session, "Please check, @kim.")] == ["kim"]


def test_writing_a_note_that_mentions_oneself_opens_no_mention(
    session: Session, drive: Driver, team: Team, clock: FrozenClock
) -> None:
    case = drive.open_case()
    body = f"Reminder for @{team.worker.username}: call back."
    notes.write_note(
        session,
        case_id=case.id,
        payload={"type": "other", "body": body},
        actor=team.worker,
        clock=clock,
    )
    assert session.scalars(select(HumanTask).where(HumanTask.kind == "mention")).all() == []


def test_the_demo_intern_is_supervised_by_morgan(session: Session) -> None:
    morgan = factories.SupervisorFactory(username="morgan")
    intern = demo.seed_intern(session, password="a long demo password")
    assert (intern.is_intern, intern.supervisor_id) == (True, morgan.id)
    assert session.scalar(select(User).where(User.username == "riley")) is intern
