"""DESIGN.md's invariants, against real commits on the test database (SQLite WAL or PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from engine import accounts, audit, cases, definitions, demo, inbox, instances, timers
from engine.clock import FrozenClock
from engine.errors import Conflict
from engine.instances import ProcessInstance, projections
from engine.timers import Timer
from scheduler import TimerRunner
from tests.factories import client_payload

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "engine"
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _worker(sessions, name="sw"):
    with sessions.begin() as s:
        return accounts.create_user(s, username=name, display_name=name, roles=["social_worker"])


def _open_case(sessions, worker, clock):
    with sessions.begin() as s:
        case, started = cases.open_case(
            s, client=client_payload(), reason="test", actor=worker, clock=clock
        )
        [task] = started.created_tasks
        return case.id, started.instance.id, task.id


def test_failure_mid_command_leaves_nothing_behind(committed, monkeypatch):
    clock = FrozenClock(T0)
    worker = _worker(committed)
    case_id, instance_id, task_id = _open_case(committed, worker, clock)
    with committed.begin() as s:
        before = (
            s.get(ProcessInstance, instance_id).version,
            s.scalar(select(func.count(audit.AuditEvent.id))),
        )

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(
        projections, "sync", explode
    )  # fails after the task and audit rows were written
    with pytest.raises(RuntimeError), committed.begin() as s:
        instances.complete_task(s, task_id=task_id, data=demo.INTAKE, actor=worker, clock=clock)
    with committed.begin() as s:
        assert s.get(inbox.HumanTask, task_id).status == "open"
        after = (
            s.get(ProcessInstance, instance_id).version,
            s.scalar(select(func.count(audit.AuditEvent.id))),
        )
    assert after == before


def test_two_concurrent_completions_exactly_one_wins(committed):
    clock = FrozenClock(T0)
    worker = _worker(committed)
    _, _, task_id = _open_case(committed, worker, clock)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            with committed.begin() as s:
                instances.complete_task(
                    s, task_id=task_id, data=demo.INTAKE, actor=worker, clock=clock
                )
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    with committed.begin() as s:
        assert (
            s.scalar(select(func.count()).where(audit.AuditEvent.action == "case:task:completed"))
            == 1
        )


def test_stale_instance_write_is_a_conflict(committed):
    clock = FrozenClock(T0)
    worker = _worker(committed)
    _, instance_id, task_id = _open_case(committed, worker, clock)
    stale = committed()
    with stale.begin():  # read the instance (it stays in this session's identity map)
        old = stale.get(ProcessInstance, instance_id)
    with committed.begin() as s:  # someone else moves the instance on
        instances.complete_task(s, task_id=task_id, data=demo.INTAKE, actor=worker, clock=clock)
    from sqlalchemy.orm.exc import StaleDataError

    with pytest.raises(StaleDataError), stale.begin():  # a write based on the old version
        old.updated_at = clock.now() + timedelta(seconds=1)
    stale.close()


def _deploy_fixture(sessions, name):
    with sessions.begin() as s:
        [result] = definitions.deploy(s, {name: (FIXTURES / name).read_bytes()}, now=T0)
        return result.definition.process_key


def _start_many(sessions, key, n, clock):
    with sessions.begin() as s:
        for _ in range(n):
            instances.start_process(s, process_key=key, case=None, actor=None, clock=clock)


def test_two_schedulers_racing_fire_each_of_500_timers_once(committed):
    clock = FrozenClock(T0)
    key = _deploy_fixture(committed, "timer_wait.bpmn")
    _start_many(committed, key, 500, clock)
    clock.advance(minutes=2)
    runners = [TimerRunner(committed, clock=clock, owner=f"w{i}", batch=25) for i in range(2)]
    counts = [0, 0]

    def run(i: int) -> None:
        counts[i] = runners[i].run_due()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with committed.begin() as s:
        statuses = s.execute(select(Timer.status, func.count()).group_by(Timer.status)).all()
        fired_events = s.scalar(
            select(func.count()).where(audit.AuditEvent.action == "instance:timer:fired")
        )
        ready = s.scalar(select(func.count()).where(inbox.HumanTask.bpmn_id == "after_wait"))
    assert dict(statuses) == {"fired": 500}
    assert sum(counts) == 500
    assert fired_events == 500
    assert ready == 500


def test_a_worker_killed_after_claiming_leaves_its_timer_to_another(committed):
    clock = FrozenClock(T0)
    key = _deploy_fixture(committed, "timer_wait.bpmn")
    _start_many(committed, key, 1, clock)
    clock.advance(minutes=2)
    with committed.begin() as s:  # the doomed worker claims, commits the lease, then dies
        claimed = timers.claim_due_timers(s, owner="doomed", now=clock.now(), lease_s=60)
    assert len(claimed) == 1
    survivor = TimerRunner(committed, clock=clock, owner="survivor", lease_s=60)
    assert survivor.run_due() == 0  # the lease still holds
    clock.advance(seconds=61)
    assert survivor.run_due() == 1
    with committed.begin() as s:
        timer = s.get(Timer, claimed[0])
        assert (timer.status, timer.attempts) == ("fired", 2)


def test_a_stale_second_firing_is_a_no_op(committed):
    clock = FrozenClock(T0)
    key = _deploy_fixture(committed, "timer_wait.bpmn")
    _start_many(committed, key, 1, clock)
    clock.advance(minutes=2)
    with committed.begin() as s:
        [timer_id] = timers.claim_due_timers(s, owner="a", now=clock.now())
    with committed.begin() as s:
        assert instances.fire_timer(s, timer_id=timer_id, clock=clock) is True
    with committed.begin() as s:  # the first worker wakes up late and tries again
        assert instances.fire_timer(s, timer_id=timer_id, clock=clock) is False


def test_an_instance_keeps_its_definition_version_after_a_new_deploy(committed, tmp_path):
    clock = FrozenClock(T0)
    key = _deploy_fixture(committed, "timer_wait.bpmn")
    _start_many(committed, key, 1, clock)
    changed = (FIXTURES / "timer_wait.bpmn").read_text().replace('"PT1M"', '"PT5M"')
    with committed.begin() as s:
        [v2] = definitions.deploy(s, {"timer_wait.bpmn": changed.encode()}, now=T0)
        assert (v2.created, v2.definition.version) == (True, 2)
    clock.advance(minutes=2)
    assert (
        TimerRunner(committed, clock=clock).run_due() == 1
    )  # the v1 instance still waits 1 minute
    with committed.begin() as s:
        [inst] = s.scalars(select(ProcessInstance)).all()
        assert inst.definition.version == 1
        started = instances.start_process(s, process_key=key, case=None, actor=None, clock=clock)
        assert started.instance.definition.version == 2


def test_redeploying_identical_content_is_a_no_op(committed):
    content = {"message_wait.bpmn": (FIXTURES / "message_wait.bpmn").read_bytes()}
    with committed.begin() as s:
        [first] = definitions.deploy(s, content, now=T0)
    with committed.begin() as s:
        [again] = definitions.deploy(s, content, now=T0)
    assert (again.created, again.definition.id) == (False, first.definition.id)


def test_a_tampered_audit_row_is_detected(committed):
    clock = FrozenClock(T0)
    worker = _worker(committed)
    _open_case(committed, worker, clock)
    with committed.begin() as s:
        assert audit.verify_chain(s).ok
        victim = s.scalar(
            select(audit.AuditEvent.id).order_by(audit.AuditEvent.id).limit(1).offset(1)
        )
        s.execute(
            update(audit.AuditEvent).where(audit.AuditEvent.id == victim).values(actor="mallory")
        )
    with committed.begin() as s:
        report = audit.verify_chain(s)
    assert report.broken_ids == [victim]


def test_a_deleted_audit_row_is_detected(committed):
    clock = FrozenClock(T0)
    worker = _worker(committed)
    _open_case(committed, worker, clock)
    with committed.begin() as s:
        victim = s.scalar(
            select(audit.AuditEvent.id).order_by(audit.AuditEvent.id).limit(1).offset(1)
        )
        s.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": victim})
    with committed.begin() as s:
        assert not audit.verify_chain(s).ok


def test_scheduler_sleeps_until_the_earliest_timer(committed):
    clock = FrozenClock(T0)
    key = _deploy_fixture(committed, "timer_wait.bpmn")
    _start_many(committed, key, 3, clock)
    assert TimerRunner(committed, clock=clock).next_wakeup() == T0 + timedelta(minutes=1)


def test_completing_two_branches_at_once_creates_each_next_task_once(committed):
    """The second completion waits for the first's lock, then must see the task the first
    one created (not its pre-wait snapshot), or it would project that task a second time."""
    clock = FrozenClock(T0)
    worker = _worker(committed)
    key = _deploy_fixture(committed, "parallel_tasks.bpmn")
    with committed.begin() as s:
        started = instances.start_process(s, process_key=key, case=None, actor=worker, clock=clock)
        ids = {t.bpmn_id: t.id for t in started.created_tasks}
    first_holds_lock = threading.Event()
    errors: list[BaseException] = []

    def complete_first() -> None:
        try:
            with committed.begin() as s:
                instances.complete_task(s, task_id=ids["first"], data={}, actor=worker, clock=clock)
                first_holds_lock.set()
                time.sleep(0.3)  # the second completion is now waiting for the lock
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
            first_holds_lock.set()

    thread = threading.Thread(target=complete_first)
    thread.start()
    first_holds_lock.wait(5)
    with committed.begin() as s:
        instances.complete_task(s, task_id=ids["second"], data={}, actor=worker, clock=clock)
    thread.join()
    assert errors == []
    with committed.begin() as s:
        rows = s.execute(
            select(inbox.HumanTask.bpmn_id, inbox.HumanTask.status).where(
                inbox.HumanTask.instance_id == started.instance.id
            )
        ).all()
    assert sorted(rows) == [
        ("first", "completed"),
        ("first_followup", "open"),
        ("second", "completed"),
    ]


def test_two_workers_claiming_one_queued_task_exactly_one_gets_it(committed):
    clock = FrozenClock(T0)
    with committed.begin() as s:
        manager = accounts.create_user(s, username="cm", display_name="cm", roles=["case_manager"])
    workers = [_worker(committed, f"sw{i}") for i in range(2)]
    with committed.begin() as s:  # no primary social worker: the intake waits in the queue
        _case, started = cases.open_case(
            s, client=client_payload(), reason="test", actor=manager, clock=clock
        )
        [task] = started.created_tasks
    assert task.assignee_id is None
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(worker) -> None:
        barrier.wait()
        try:
            with committed.begin() as s:
                inbox.claim_task(s, task_id=task.id, actor=worker, clock=clock)
            outcomes.append("won")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_claimed", "won"]
    with committed.begin() as s:
        claimed = s.scalar(
            select(func.count()).where(audit.AuditEvent.action == "case:task:claimed")
        )
        holder = s.get(inbox.HumanTask, task.id).assignee_id
    assert claimed == 1
    assert holder in {w.id for w in workers}
