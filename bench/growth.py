"""Benchmark 4: state growth of one long-running instance.

One care pathway repeats the follow-up round (care plan, follow-up timer, follow-up review with
"replan") 200 times. The shipped diagram caps the rounds at loopMaximum 12, so the benchmark
deploys a copy with loopMaximum 200 as the next version of care_pathway (bench database only).
At rounds 10, 50, 100 and 200: the stored state's size, the time of the round's commands, and
the serializer's share (state → workflow → state, measured on the stored row). Cost ratio =
mean command time of round 200 / of round 10 (target <= 2).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bench.common import PROCESSES, Table, deploy_extra, fresh_database, make_users
from bench.engine_throughput import TEAM, form_data
from engine import cases, definitions, inbox, instances, timers
from engine.clock import FrozenClock
from engine.instances.models import ProcessInstance
from engine.workflow import runtime

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
CHECKPOINTS = (10, 50, 100, 200)
SHIPPED_MAXIMUM = 'loopMaximum="12"'


def long_pathway() -> bytes:
    xml = (PROCESSES / "care_pathway.bpmn").read_text()
    if SHIPPED_MAXIMUM not in xml:
        raise RuntimeError(f"care_pathway.bpmn no longer has {SHIPPED_MAXIMUM}: update bench")
    return xml.replace(SHIPPED_MAXIMUM, f'loopMaximum="{max(CHECKPOINTS)}"').encode()


def _serializer_ms(db: Any, instance_id: int) -> tuple[float, float]:
    """Median ms to restore the stored state and to serialize it again (spec from cache)."""
    with db.sessions() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        spec, subspecs = definitions.specs_for(instance.definition)
        state = instance.state
    engine = instances.services.script_engine()
    loads, dumps = [], []
    for _ in range(5):
        t = time.perf_counter()
        wf = runtime.loads(state, spec, subspecs, engine)
        loads.append(time.perf_counter() - t)
        t = time.perf_counter()
        runtime.dumps(wf)
        dumps.append(time.perf_counter() - t)
    return statistics.median(loads) * 1000, statistics.median(dumps) * 1000


def run_growth(backend: str, rounds: int) -> dict[str, Any]:
    with fresh_database(backend) as db:
        deploy_extra(db, {"care_pathway.bpmn": long_pathway()})
        users = make_users(db, TEAM)
        sw = users["sw"]
        clock = FrozenClock(START)

        def txn(fn: Any) -> Any:
            with db.sessions.begin() as session:
                return fn(session)

        case, started = txn(
            lambda s: cases.open_case(
                s,
                client={"given_name": "Long", "family_name": "Stay", "birth_date": "1940-05-05"},
                reason="Benchmark: 200 follow-up rounds",
                actor=sw,
                clock=clock,
            )
        )
        instance_id = started.instance.id

        def complete(bpmn_id: str, data: dict[str, Any]) -> float:
            with db.sessions() as session:
                task_id = session.scalar(
                    select(inbox.HumanTask.id).where(
                        inbox.HumanTask.case_id == case.id,
                        inbox.HumanTask.status == "open",
                        inbox.HumanTask.bpmn_id == bpmn_id,
                    )
                )
            assert task_id is not None, bpmn_id
            t = time.perf_counter()
            txn(
                lambda s: instances.complete_task(
                    s, task_id=task_id, data=data, actor=sw, clock=clock
                )
            )
            return time.perf_counter() - t

        def fire() -> float:
            clock.advance(days=7, seconds=1)
            t = time.perf_counter()
            ids = txn(lambda s: timers.claim_due_timers(s, owner="bench", now=clock.now()))
            for timer_id in ids:
                txn(lambda s, tid=timer_id: instances.fire_timer(s, timer_id=tid, clock=clock))
            return time.perf_counter() - t

        complete("intake", form_data("intake"))
        complete("assessment", form_data("assessment"))
        points = {}
        replan = form_data("followup_review") | {"decision": "replan", "reason": "Not yet."}
        for n in range(1, rounds + 1):
            times = [complete("care_plan", form_data("care_plan")), fire()]
            times.append(complete("followup_review", replan))
            if n in CHECKPOINTS:
                with db.sessions() as session:
                    size = len(
                        session.scalar(
                            select(ProcessInstance.state).where(ProcessInstance.id == instance_id)
                        )
                        or ""
                    )
                load_ms, dump_ms = _serializer_ms(db, instance_id)
                points[n] = {
                    "state_bytes": size,
                    "round_ms": sum(times) * 1000,
                    "command_ms": statistics.fmean(times) * 1000,
                    "load_ms": load_ms,
                    "dump_ms": dump_ms,
                }
            clock.advance(days=1)
        # The loop ends at its maximum however many rounds were pruned from the state.
        with db.sessions() as session:
            open_steps = session.scalars(
                select(inbox.HumanTask.bpmn_id).where(
                    inbox.HumanTask.case_id == case.id, inbox.HumanTask.status == "open"
                )
            ).all()
        if rounds == max(CHECKPOINTS) and list(open_steps) != ["close_case"]:
            raise RuntimeError(f"after {rounds} rounds the pathway is at {open_steps}")
        return points


def run(*, quick: bool, backends: tuple[str, ...]) -> tuple[dict[str, Any], list[Table]]:
    rounds = max(CHECKPOINTS)
    details = {b: run_growth(b, rounds) for b in backends if not quick or b == "sqlite"}
    first, last = min(CHECKPOINTS), max(CHECKPOINTS)
    ratios = {
        b: points[last]["command_ms"] / points[first]["command_ms"] for b, points in details.items()
    }
    results: dict[str, Any] = {
        "growth.cost_ratio_200_vs_10": max(ratios.values()),
        "growth.state_ratio_200_vs_10": max(
            p[last]["state_bytes"] / p[first]["state_bytes"] for p in details.values()
        ),
        "growth.details": details,
    }
    table = Table(
        f"State growth: one instance, {rounds} follow-up rounds (care plan, timer, review)",
        ("backend", "round", "state KB", "command ms", "round ms", "load ms", "dump ms"),
    )
    for backend, points in details.items():
        for n, p in points.items():
            table.add(
                backend,
                n,
                p["state_bytes"] / 1024,
                p["command_ms"],
                p["round_ms"],
                p["load_ms"],
                p["dump_ms"],
            )
        ratio = ratios[backend]
        table.notes.append(f"{backend}: cost ratio round {last} / round {first} = {ratio:.2f}")
    table.notes.append("target: cost at round 200 <= 2 x cost at round 10")
    return results, [table]
