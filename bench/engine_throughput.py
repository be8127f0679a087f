"""Benchmark 1: the care pathway start → end through the engine API, persisted, against the same
pathway driven by bare SpiffWorkflow in memory and with a JSON round-trip per step.

Every instance: a case manager opens the case (no primary social worker, so every task lands
in its role's queue); each task that appears is claimed and completed by a member of its role
with valid form data (engine.demo_forms); when no task is open, the clock moves past the next
timer and the scheduler's claim + fire runs. The run: intake, assessment (instruments scored),
care plan (no referral needs, follow-up in 7 days), the follow-up timer, follow-up review
(close), close case: 5 user-task completions, 5 claims, 1 start, 1 timer claim and 1 fire per
instance, each in its own transaction as the web and the scheduler run them.
Completions/s = completions / wall time of the whole drive.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from bench.common import PROCESSES, Database, Table, fresh_database, make_users, summary_ms
from engine import cases, demo_forms, inbox, instances, timers
from engine.accounts.models import User
from engine.clock import FrozenClock
from engine.instances.live import LIVE
from engine.workflow import runtime

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
TEAM = {
    "cm": ("case_manager",),
    "sw": ("social_worker",),
    "rn": ("nurse",),
    "sup": ("supervisor",),
    "md": ("physician",),
}
MAX_STEPS = 40  # a pathway that does not end within this many commands is a bench error

# What the engine's scoring puts into task data after the assessment (bare runs skip scoring).
SCREENING = {
    "risk_level": "none",
    "suicide_ideation": False,
    "crisis": False,
    "safety_plan_needed": False,
    "phq2_positive": False,
    "do_not_contact": False,
    "needs": [],
    "bands": {"phq2": "negative"},
    "scores": {"phq2": 1},
}
INSTRUMENT_FIELDS = ("phq2", "phq9", "cssrs", "ahc_hrsn", "gad7")


def form_data(bpmn_id: str) -> dict[str, Any]:
    """Valid form data for a task: the demo's, with the plan's choices fixed for the run."""
    if bpmn_id == "care_plan":
        return demo_forms.care_plan(needs=(), interval="P7D")
    if bpmn_id == "followup_review":
        return demo_forms.followup("close")
    return copy.deepcopy(demo_forms.STEP_DATA[bpmn_id]())


# ---------------------------------------------------------------- persisted --------
class Driver:
    def __init__(self, db: Database, users: dict[str, User]) -> None:
        self.db = db
        self.opener = users["cm"]
        self.by_role = {
            role: user for user in users.values() for role in user.role_keys if role != "admin"
        }
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.serial = 0

    def _timed(self, kind: str, fn: Callable[[Any], Any]) -> Any:
        start = time.perf_counter()
        with self.db.sessions.begin() as session:
            value = fn(session)
        self.latency[kind].append(time.perf_counter() - start)
        return value

    def run_instance(self) -> int:
        self.serial += 1
        clock = FrozenClock(START)
        client = {
            "given_name": "Bench",
            "family_name": f"Client{self.serial}",
            "birth_date": "1950-01-01",
        }
        case, started = self._timed(
            "start",
            lambda s: cases.open_case(
                s, client=client, reason="Benchmark", actor=self.opener, clock=clock
            ),
        )
        instance_id = started.instance.id
        ready = [(t.id, t.bpmn_id, t.role) for t in started.created_tasks]
        completed = 0
        finished = False
        for _ in range(MAX_STEPS):
            if not ready:
                if finished:
                    return completed
                ready = self._fire_next_timer(clock, case.id)
                continue
            task_id, bpmn_id, role = ready.pop(0)
            actor = self.by_role[role]
            data = form_data(bpmn_id)
            self._timed(
                "claim",
                lambda s, t=task_id, a=actor: inbox.claim_task(s, task_id=t, actor=a, clock=clock),
            )
            result = self._timed(
                "complete",
                lambda s, t=task_id, a=actor, d=data: instances.complete_task(
                    s, task_id=t, data=d, actor=a, clock=clock
                ),
            )
            completed += 1
            # The command says where the instance stands (no extra read, as a client would).
            finished = result.instance.status == "completed"
            ready += [(t.id, t.bpmn_id, t.role) for t in result.created_tasks]
            clock.advance(minutes=5)
        raise RuntimeError(f"instance {instance_id} did not finish in {MAX_STEPS} steps")

    def _fire_next_timer(self, clock: FrozenClock, case_id: int) -> list[tuple[int, str, str]]:
        with self.db.sessions() as session:
            due = session.scalar(
                select(timers.Timer.due_at)
                .where(timers.Timer.status == "waiting")
                .order_by(timers.Timer.due_at)
                .limit(1)
            )
        if due is None:
            raise RuntimeError("the pathway waits on nothing but has not finished")
        clock.set(max(clock.now(), due + timedelta(seconds=1)))
        ids = self._timed(
            "timer claim",
            lambda s: timers.claim_due_timers(s, owner="bench", now=clock.now()),
        )
        for timer_id in ids:
            self._timed(
                "timer fire", lambda s, t=timer_id: instances.fire_timer(s, timer_id=t, clock=clock)
            )
        # fire_timer does not return the tasks it opens: read them as the inbox would.
        with self.db.sessions() as session:
            rows = session.execute(
                select(inbox.HumanTask.id, inbox.HumanTask.bpmn_id, inbox.HumanTask.role)
                .where(inbox.HumanTask.case_id == case_id, inbox.HumanTask.status == "open")
                .order_by(inbox.HumanTask.id)
            ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def persisted(backend: str, n: int, *, warmup: int = 3) -> dict[str, Any]:
    with fresh_database(backend) as db:
        users = make_users(db, TEAM)
        driver = Driver(db, users)
        for _ in range(warmup):
            driver.run_instance()
        driver.latency.clear()
        hits, misses = LIVE.hits, LIVE.misses
        start = time.perf_counter()
        completions = sum(driver.run_instance() for _ in range(n))
        elapsed = time.perf_counter() - start
        return {
            # Commands that found their live workflow (engine.instances.live) vs restored it.
            "live_workflow_hits": LIVE.hits - hits,
            "live_workflow_misses": LIVE.misses - misses,
            "instances": n,
            "completions": completions,
            "elapsed_s": elapsed,
            "completions_per_s": completions / elapsed,
            "latency_ms": {k: summary_ms(v) for k, v in driver.latency.items()},
        }


# ---------------------------------------------------------------- bare -------------
def bare_specs() -> tuple[Any, Any]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for path in sorted(PROCESSES.glob("*.bpmn")):
        parser.add_bpmn_file(str(path))
    for path in sorted(PROCESSES.glob("*.dmn")):
        parser.add_dmn_file(str(path))
    return parser.get_spec("care_pathway"), parser.get_subprocess_specs("care_pathway")


FULL_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def _round_trip_full(wf: BpmnWorkflow, _specs: tuple[Any, Any]) -> BpmnWorkflow:
    return FULL_SERIALIZER.deserialize_json(FULL_SERIALIZER.serialize_json(wf))


def _round_trip_specless(wf: BpmnWorkflow, specs: tuple[Any, Any]) -> BpmnWorkflow:
    return runtime.loads(runtime.dumps(wf), specs[0], specs[1], wf.script_engine)


def _save_only(wf: BpmnWorkflow, _specs: tuple[Any, Any]) -> BpmnWorkflow:
    """The least a durable engine must do per command: serialize the state it stores (no
    restore, as with a live workflow; no database at all). Its rate bounds every persisted
    figure from above."""
    runtime.dumps(wf)
    return wf


def bare_instance(
    specs: tuple[Any, Any],
    round_trip: Callable[[BpmnWorkflow, tuple[Any, Any]], BpmnWorkflow] | None,
) -> int:
    """The same pathway with the library alone: default script engine, no database, the same
    form data. With `round_trip`, the workflow is serialized after every command and restored
    before the next, as a persisted engine must."""
    spec, subprocess_specs = specs
    wf = BpmnWorkflow(spec, subprocess_specs)
    start = next(t for t in wf.tasks.values() if t.state == TaskState.READY)
    start.data.update(case_id=1, client_id=1, do_not_contact=False)
    wf.do_engine_steps()
    completed = 0
    for _ in range(MAX_STEPS):
        if round_trip is not None:
            wf = round_trip(wf, specs)
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            if wf.is_completed():
                return completed
            # The library compares due times with the wall clock: move the due times instead.
            past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            for task in wf.get_tasks(state=TaskState.WAITING):
                if "event_value" in task.internal_data:
                    task.internal_data["event_value"] = past
            wf.refresh_timers()
            wf.do_engine_steps()
            continue
        task = ready[0]
        data = form_data(task.task_spec.bpmn_id)
        extra = {}
        if any(name in data for name in INSTRUMENT_FIELDS):
            data = {k: v for k, v in data.items() if k not in INSTRUMENT_FIELDS}
            extra = {"screening": dict(SCREENING)}
        task.task_spec.add_data_from_form(task, data)
        task.data.update(extra)
        task.run()
        wf.do_engine_steps()
        completed += 1
    raise RuntimeError(f"bare run did not finish in {MAX_STEPS} steps")


def bare(n: int, round_trip: Any = None) -> dict[str, Any]:
    specs = bare_specs()
    for _ in range(3):
        bare_instance(specs, round_trip)
    start = time.perf_counter()
    completions = sum(bare_instance(specs, round_trip) for _ in range(n))
    elapsed = time.perf_counter() - start
    return {
        "instances": n,
        "completions": completions,
        "elapsed_s": elapsed,
        "completions_per_s": completions / elapsed,
    }


# ---------------------------------------------------------------- run --------------
def run(*, quick: bool, backends: tuple[str, ...]) -> tuple[dict[str, Any], list[Table]]:
    n_persisted = 40 if quick else 300
    n_bare = 200 if quick else 1000
    results: dict[str, Any] = {}
    details: dict[str, Any] = {}
    keys = {"sqlite": "engine.sqlite", "postgresql": "engine.postgres"}
    for backend, key in keys.items():
        if backend in backends:
            details[backend] = persisted(backend, n_persisted)
        results[f"{key}_completions_per_s"] = details.get(backend, {}).get("completions_per_s")
    details["bare"] = bare(n_bare)
    details["bare_serialized"] = bare(n_bare, _round_trip_full)
    details["bare_serialized_specless"] = bare(n_bare, _round_trip_specless)
    details["bare_save_only"] = bare(n_bare, _save_only)
    for name in ("bare", "bare_serialized", "bare_serialized_specless", "bare_save_only"):
        results[f"engine.{name}_completions_per_s"] = details[name]["completions_per_s"]
    ser = results["engine.bare_serialized_completions_per_s"]
    for key in keys.values():
        value = results[f"{key}_completions_per_s"]
        results[f"{key}_vs_bare_serialized"] = value / ser if value else None

    table = Table(
        "Engine throughput: care pathway start -> end, claim + complete every task",
        ("run", "instances", "completions", "seconds", "completions/s", "x bare+ser", "target"),
    )
    names = {
        "sqlite": "persisted, SQLite (WAL file)",
        "postgresql": "persisted, PostgreSQL",
        "bare": "bare SpiffWorkflow, in memory",
        "bare_serialized": "bare + JSON round-trip/step (library serializer, spec incl.)",
        "bare_serialized_specless": "bare + JSON round-trip/step (state only, as stored)",
        "bare_save_only": "bare + state serialized/step, no restore, no DB (ceiling)",
    }
    targets = {"sqlite": ">= 1,000/s and >= 0.5x", "postgresql": ">= 0.5x"}
    for key, label in names.items():
        if key not in details:
            table.add(label, None, None, None, None, None, targets.get(key, ""))
            continue
        d = details[key]
        table.add(
            label,
            d["instances"],
            d["completions"],
            d["elapsed_s"],
            d["completions_per_s"],
            d["completions_per_s"] / ser,
            targets.get(key, ""),
        )
    latency = Table(
        "Engine command latency (ms, one transaction each)",
        ("backend", "command", "count", "p50", "p95", "p99"),
    )
    for backend in ("sqlite", "postgresql"):
        for kind, s in details.get(backend, {}).get("latency_ms", {}).items():
            latency.add(backend, kind, s["n"], s["p50"], s["p95"], s["p99"])
    return results | {"engine.details": details}, [table, latency]
