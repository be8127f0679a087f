"""An escalation task's page: its small form, completed by the supervisor it went to."""

from __future__ import annotations

from sqlalchemy import select

from engine import alarms
from engine.inbox.models import HumanTask
from tests import factories
from tests.engine.alarms.conftest import deploy_probe, stat_case


def test_the_supervisor_completes_the_escalation_from_its_page(as_user, session, clock, worker):
    supervisor = factories.SupervisorFactory()
    _, task = stat_case(session, clock, deploy_probe(session), worker)
    clock.advance(minutes=15)
    alarms.escalate(session, task_id=task.id, now=clock.now())
    escalation = session.scalars(
        select(HumanTask).where(HumanTask.escalates_task_id == task.id)
    ).one()
    session.commit()
    client = as_user(supervisor)
    page = client.get(f"/tasks/{escalation.id}").get_data(as_text=True)
    assert "open the task it escalates" in page
    assert "What you did" in page
    resp = client.post(f"/tasks/{escalation.id}", data={"action": "took_over"})
    assert resp.status_code == 302
    session.refresh(escalation)
    session.refresh(task)
    assert (escalation.status, task.acknowledged_by_id) == ("completed", supervisor.id)
