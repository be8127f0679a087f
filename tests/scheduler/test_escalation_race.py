"""Two schedulers taking the escalation ladder's steps at once, with real commits: each due
step is taken once (one escalation task, one set of alerts), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from engine.inbox.models import HumanTask
from engine.notifications import Notification
from scheduler import EscalationRunner
from tests.engine.alarms.conftest import deploy_probe, stat_case
from tests.factories import UserFactory, bind

TASKS = 12


def test_two_schedulers_take_each_step_once(committed, clock):
    with committed.begin() as s:
        bind(s)
        UserFactory(role_keys=("supervisor",))
        worker = UserFactory(role_keys=("social_worker",))
        key = deploy_probe(s)
        for _ in range(TASKS):
            stat_case(s, clock, key, worker)
    clock.advance(minutes=15)
    runners = [EscalationRunner(committed, clock=clock) for _ in range(2)]
    start = threading.Barrier(2)
    raised = [0, 0]

    def work(i: int) -> None:
        start.wait()
        raised[i] = runners[i].run_due()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(raised) == TASKS
    with committed.begin() as s:
        escalations = s.scalar(
            select(func.count()).select_from(HumanTask).where(HumanTask.kind == "escalation")
        )
        alerts = s.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "escalation")
        )
        pending = s.scalars(
            select(HumanTask.next_escalation_at).where(HumanTask.kind == "bpmn")
        ).all()
    assert escalations == TASKS
    assert alerts == TASKS * 2  # one supervisor, two channels
    assert set(pending) == {clock.now() + timedelta(minutes=15)}
