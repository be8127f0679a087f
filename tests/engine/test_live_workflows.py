"""Live workflows reused between commands only when the stored state is exactly theirs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from engine import accounts, cases, demo, instances
from engine.clock import FrozenClock
from engine.instances import ProcessInstance, projections
from engine.instances.live import LIVE, LiveWorkflows
from engine.workflow import runtime
from tests.factories import client_payload

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_cache():
    LIVE.clear()
    yield
    LIVE.clear()


@pytest.fixture
def restores(monkeypatch):
    """Counts workflows restored from stored state."""
    calls: list[int] = []
    real = runtime.loads

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime, "loads", counting)
    return calls


@pytest.fixture
def opened(committed):
    clock = FrozenClock(T0)
    with committed.begin() as s:
        worker = accounts.create_user(s, username="sw", display_name="sw", roles=["social_worker"])
    with committed.begin() as s:
        case, started = cases.open_case(
            s, client=client_payload(), reason="test", actor=worker, clock=clock
        )
        [task] = started.created_tasks
    return worker, started.instance.id, task.id, clock


def _complete(sessions, worker, task_id, clock):
    with sessions.begin() as s:
        return instances.complete_task(
            s, task_id=task_id, data=demo.INTAKE, actor=worker, clock=clock
        )


def test_the_next_command_reuses_the_workflow_its_last_commit_saved(committed, opened, restores):
    worker, _, task_id, clock = opened
    result = _complete(committed, worker, task_id, clock)
    assert restores == []
    assert [t.bpmn_id for t in result.created_tasks] == ["assessment"]


def test_a_failed_command_leaves_no_changed_workflow_behind(
    committed, opened, restores, monkeypatch
):
    worker, instance_id, task_id, clock = opened

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(projections, "sync", explode)  # after the workflow ran the task
        with pytest.raises(RuntimeError):
            _complete(committed, worker, task_id, clock)
    assert len(LIVE) == 0
    restores.clear()
    result = _complete(committed, worker, task_id, clock)
    assert restores == [1]  # the retry restores the stored state, not the half-run object
    assert [t.bpmn_id for t in result.created_tasks] == ["assessment"]


def test_a_state_moved_on_elsewhere_is_restored_not_reused(committed, opened, restores):
    worker, instance_id, task_id, clock = opened
    with committed.begin() as s:
        state = s.get(ProcessInstance, instance_id).state
        # Another process saved the same pathway again (here: the same state re-encoded).
        s.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .values(state=state.replace(", ", ",", 1) if ", " in state else state + " ")
        )
    _complete(committed, worker, task_id, clock)
    assert restores == [1]


def test_a_read_only_view_does_not_take_the_live_workflow(committed, opened, restores):
    worker, instance_id, task_id, clock = opened
    with committed() as s:
        instances.describe_instance(s, instance_id)
    assert len(LIVE) == 1
    restores.clear()
    _complete(committed, worker, task_id, clock)
    assert restores == []


def test_entries_are_kept_only_after_commit(session):
    cache = LiveWorkflows()
    cache.remember(session, 1, "state", object())
    assert cache.take(1, "state") is None


def test_take_removes_the_entry_and_checks_the_state():
    cache = LiveWorkflows()
    wf = object()
    cache._commit({1: ("state", wf), 2: ("other", object())})
    assert cache.take(2, "changed") is None
    assert cache.take(2, "other") is None  # a mismatch evicts
    assert cache.take(1, "state") is wf
    assert cache.take(1, "state") is None


def test_the_cache_is_bounded_oldest_out():
    cache = LiveWorkflows(max_entries=2)
    cache._commit({1: ("a", object()), 2: ("b", object()), 3: ("c", object())})
    assert len(cache) == 2
    assert cache.take(1, "a") is None
    assert cache.take(3, "c") is not None
