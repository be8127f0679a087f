"""Live workflows reused between commands only when the stored state is exactly theirs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine import accounts, cases, definitions, demo, instances
from engine.clock import FrozenClock
from engine.instances import ProcessInstance, projections
from engine.instances.live import LIVE, LiveWorkflows
from engine.workflow import runtime
from tests.factories import client_payload

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

# These test the cache itself: they run with it on in both passes of `make test`.
pytestmark = pytest.mark.live_workflows("on")


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


@pytest.mark.parametrize("live", [True, False], ids=["live", "restored"])
def test_a_script_changing_shared_data_in_place_reaches_only_its_own_task(committed, opened, live):
    """SpiffWorkflow shares nested lists between tasks' data, and shares them differently in a
    live workflow and in one restored from its state: a script's in-place change must reach
    neither the other branch nor, through it, the next command's data, on either path."""
    worker, _, _, clock = opened
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "engine"
    with committed.begin() as s:
        [deployed] = definitions.deploy(
            s, {"in_place_change.bpmn": (fixture / "in_place_change.bpmn").read_bytes()}, now=T0
        )
    with committed.begin() as s:
        started = instances.start_process(
            s, process_key=deployed.definition.process_key, case=None, actor=worker, clock=clock
        )
        tasks = {t.bpmn_id: (t.id, t.spiff_task_id) for t in started.created_tasks}
    if not live:
        LIVE.clear()  # the completion below runs on a workflow restored from the stored state
    with committed.begin() as s:
        instances.complete_task(s, task_id=tasks["a"][0], data={}, actor=worker, clock=clock)
    with committed() as s:
        instance = s.get(ProcessInstance, started.instance.id)
        spec, subspecs = definitions.specs_for(instance.definition)
        stored = runtime.loads(instance.state, spec, subspecs, instances.services.script_engine())
    assert runtime.task_data(stored, tasks["b"][1])["d"] == {"l": []}


def test_the_cache_can_be_turned_off(committed, opened, restores):
    worker, _, task_id, clock = opened
    LIVE.configure(0)
    try:
        _complete(committed, worker, task_id, clock)
        assert restores == [1]
        assert len(LIVE) == 0
    finally:
        LIVE.configure(256)


def test_the_setting_reads_a_whole_number(monkeypatch):
    from engine.settings import load_settings

    monkeypatch.setenv("CAREBRIDGE_LIVE_WORKFLOWS", "0")
    assert load_settings(secret_key="x").live_workflows == 0
    monkeypatch.setenv("CAREBRIDGE_LIVE_WORKFLOWS", "many")
    with pytest.raises(ValueError, match="CAREBRIDGE_LIVE_WORKFLOWS"):
        load_settings(secret_key="x")


def _drive_care_pathway(committed, team: str) -> tuple[list[tuple[str, str, dict]], int]:
    """The shipped care pathway from intake to close, one committed transaction per command
    (bench.engine_throughput's drive). Returns every task of the stored workflow as (task,
    state, data without the run's ids), and how many commands restored their workflow."""
    from types import SimpleNamespace

    from bench.engine_throughput import TEAM, Driver

    with committed.begin() as s:
        users = {
            key: accounts.create_user(s, username=f"{team}-{key}", display_name=key, roles=r)
            for key, r in TEAM.items()
        }
    driver = Driver(SimpleNamespace(sessions=committed), users)
    restored_before = LIVE.misses
    assert driver.run_instance() == 5
    restored = LIVE.misses - restored_before
    with committed() as s:
        instance = s.scalars(
            select(ProcessInstance).order_by(ProcessInstance.id.desc()).limit(1)
        ).one()
        spec, subspecs = definitions.specs_for(instance.definition)
        wf = runtime.loads(instance.state, spec, subspecs, instances.services.script_engine())
    ids = {"case_id", "client_id"}
    tasks = [
        (t.task_spec.name, t.state, {k: v for k, v in t.data.items() if k not in ids})
        for t in runtime._all_tasks(wf)
    ]
    return tasks, restored


def test_the_care_pathway_ends_the_same_live_and_restored(committed, restores):
    live, restored_live = _drive_care_pathway(committed, "a")
    LIVE.configure(0)
    try:
        restored, _ = _drive_care_pathway(committed, "b")
    finally:
        LIVE.configure(256)
    assert restored_live == 0  # the first drive ran every command on its live workflow
    assert len(restores) > 6  # the second restored every one (and both snapshots above)
    assert len(live) > 10
    assert live == restored
