"""Domain events: subscribers run in the emitting command's transaction and share its fate;
the core emits without importing who listens."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import accounts, events
from engine.accounts.models import User
from engine.events import CaseFlagChanged, Registry, TaskCompleted, TaskCreated
from engine.referrals import subscribers as referral_subscribers
from engine.settings import ROOT
from engine.uow import UnitOfWork
from engine.wiring import wire

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
FLAGGED = CaseFlagChanged(case_id=1, client_id=1, flags=("do_not_contact",), actor_id=None, at=T0)


def _writes_a_user(session, event: CaseFlagChanged) -> str:  # type: ignore[no-untyped-def]
    name = f"subscriber_{event.case_id}"
    accounts.create_user(session, username=name, display_name=name, roles=["supervisor"])
    return name


def _users_named(sessions, name: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalar(select(func.count()).where(User.username == name))  # type: ignore[no-any-return]


def test_a_subscriber_writes_in_the_commands_transaction_and_commits_with_it(committed):
    registry = Registry()
    registry.subscribe(CaseFlagChanged, _writes_a_user)
    with UnitOfWork(committed, registry=registry) as uow:
        assert events.emit(uow.session, FLAGGED) == ["subscriber_1"]
    assert _users_named(committed, "subscriber_1") == 1


def test_a_unit_of_work_emits_to_its_own_registry(committed):
    registry = Registry()
    registry.subscribe(CaseFlagChanged, _writes_a_user)
    with UnitOfWork(committed, registry=registry) as uow:
        assert uow.emit(FLAGGED) == ["subscriber_1"]
        assert uow.events == [FLAGGED]


def test_a_failed_command_rolls_its_subscribers_writes_back(committed):
    registry = Registry()
    registry.subscribe(CaseFlagChanged, _writes_a_user)

    def command() -> None:
        with UnitOfWork(committed, registry=registry) as uow:
            events.emit(uow.session, FLAGGED)
            raise RuntimeError("the command failed after emitting")

    with pytest.raises(RuntimeError):
        command()
    assert _users_named(committed, "subscriber_1") == 0


def test_committed_hooks_get_the_events_after_commit_and_never_after_rollback(committed):
    registry = Registry()
    seen: list[list[events.Event]] = []
    registry.on_committed(lambda evs: seen.append(list(evs)))
    with UnitOfWork(committed, registry=registry) as uow:
        events.emit(uow.session, FLAGGED)
        assert seen == []

    def failing() -> None:
        with UnitOfWork(committed, registry=registry) as uow:
            events.emit(uow.session, FLAGGED)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        failing()
    assert seen == [[FLAGGED]]


def test_subscribing_twice_delivers_once():
    registry = Registry()
    wire(registry)
    wire(registry)
    once = wire(Registry()).handlers(TaskCompleted)
    assert registry.handlers(TaskCompleted) == once
    assert once.count(referral_subscribers.after_task_ran) == 1


@pytest.fixture
def recorded():  # type: ignore[no-untyped-def]
    """Events the real commands emit, through the start-up registry."""
    seen: list[events.Event] = []

    def record(_session, event: events.Event) -> None:  # type: ignore[no-untyped-def]
        seen.append(event)

    for kind in (TaskCompleted, TaskCreated):
        events.REGISTRY.subscribe(kind, record)
    yield seen
    for kind in (TaskCompleted, TaskCreated):
        events.REGISTRY.unsubscribe(kind, record)


def test_completing_a_task_emits_its_completion_then_the_next_tasks_creation(drive, recorded):
    case = drive.open_case()
    intake = drive.open_tasks(case)["intake"]
    recorded.clear()
    drive.complete(case, "intake")
    completed = [e for e in recorded if isinstance(e, TaskCompleted)]
    assert [(e.task_id, e.bpmn_id, e.case_id) for e in completed] == [
        (intake.id, "intake", case.id)
    ]
    created = {e.bpmn_id for e in recorded if isinstance(e, TaskCreated)}
    assert created == set(drive.open_tasks(case))


# ---------------------------------------------------------------- the core's imports ---
CORE = ROOT / "engine" / "instances"
FEATURES = (
    "engine.referrals",
    "engine.wiring",
    "engine.notifications",
    "engine.reports",
    "engine.alarms",
    "engine.outreach",
    "engine.discharge",
    "engine.screenings",
    "engine.client_flags",
    "engine.discharge.rules",
)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import in `path`."""
    tree = ast.parse(path.read_text())
    inside = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [(name, id(node) in inside) for name in names]
    return found


def test_the_core_imports_no_feature_module():
    imported = {name for path in CORE.glob("*.py") for name, _ in _imports(path)}
    assert sorted(n for n in imported if n.startswith(FEATURES)) == []
    # `from engine import referrals` names the feature too
    assert "engine.referrals" not in imported


@pytest.mark.parametrize("package", ["instances", "referrals", "inbox", "timers"])
def test_no_import_hides_inside_a_function_to_dodge_a_cycle(package):
    hidden = [
        (path.name, name)
        for path in (ROOT / "engine" / package).glob("*.py")
        for name, in_function in _imports(path)
        if in_function and name.startswith("engine")
    ]
    assert hidden == []


@pytest.mark.parametrize("package", ["inbox", "timers"])
def test_the_core_uses_the_inbox_and_timers_never_the_reverse(package):
    back = [
        (path.name, name)
        for path in (ROOT / "engine" / package).glob("*.py")
        for name, _ in _imports(path)
        if name.startswith("engine.instances") or name == "engine.instances"
    ]
    assert back == []
