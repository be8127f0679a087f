"""Engine-level fixtures: a small team and helpers that drive cases through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from engine import cases, demo, inbox, instances
from engine.accounts.models import User
from engine.calendar import Site
from engine.clock import FrozenClock
from tests.factories import NurseFactory, SocialWorkerFactory, SupervisorFactory, client_payload


@dataclass
class Team:
    worker: User
    colleague: User
    nurse: User
    supervisor: User


@pytest.fixture
def team(session: Session) -> Team:
    return Team(SocialWorkerFactory(), SocialWorkerFactory(), NurseFactory(), SupervisorFactory())


@dataclass
class Driver:
    session: Session
    clock: FrozenClock
    site: Site
    team: Team

    def open_case(self, **client: Any) -> cases.Case:
        case, _ = cases.open_case(
            self.session,
            client=client_payload(**client),
            reason="Falls at home",
            actor=self.team.worker,
            clock=self.clock,
            site=self.site,
        )
        return case

    def open_tasks(self, case: cases.Case) -> dict[str, inbox.HumanTask]:
        return {
            t.bpmn_id: t for t in inbox.tasks_for_case(self.session, case.id) if t.status == "open"
        }

    def complete(
        self,
        case: cases.Case,
        bpmn_id: str,
        data: dict[str, Any] | None = None,
        actor: User | None = None,
    ) -> instances.CommandResult:
        task = self.open_tasks(case)[bpmn_id]
        if actor is None:
            actor = (
                self.team.nurse
                if task.role == "nurse"
                else self.team.supervisor
                if task.role == "supervisor"
                else self.team.worker
            )
        return instances.complete_task(
            self.session,
            task_id=task.id,
            data=data if data is not None else demo.STEP_DATA[bpmn_id](),
            actor=actor,
            clock=self.clock,
            site=self.site,
        )


@pytest.fixture
def drive(session: Session, clock: FrozenClock, site: Site, team: Team) -> Driver:
    return Driver(session, clock, site, team)
