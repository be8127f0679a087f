"""Benchmark 3: timers at scale on PostgreSQL.

N instances of a generated one-timer pathway (timeDate from the instance's data, so due times
spread evenly over a window), two scheduler processes (`bench.timer_worker`: the real
`scheduler.TimerRunner`, each in its own OS process) firing them. From the timers table and the
audit trail: drain time (last firing minus last due time), lag fired_at - due_at (p50/p99),
duplicates (more than one `instance:timer:fired` audit row for a timer) and lost timers (never
fired). Then the same again with one scheduler killed with SIGKILL in the middle of the window:
its leased timers must reach the other scheduler once the (short) lease expires.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bench.common import Database, Table, deploy_extra, fresh_database, percentile
from engine import audit, instances
from engine.clock import SystemClock
from engine.settings import ROOT
from engine.timers.models import Timer

PROCESS = "bench_timer"
DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  id="{PROCESS}_defs" targetNamespace="http://carebridge.local/bench">
  <bpmn:process id="{PROCESS}" name="Benchmark timer" isExecutable="true">
    <bpmn:laneSet id="{PROCESS}_lanes">
      <bpmn:lane id="lane_sw" name="SocialWorker">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>after_wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Wait until due_at">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_def">
        <bpmn:timeDate>due_at</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:manualTask id="after_wait" name="After the wait">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:manualTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after_wait" />
    <bpmn:sequenceFlow id="f3" sourceRef="after_wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
LEASE_S = 3
SCHEDULERS = 2


def _start_instances(db: Database, due: list[datetime], batch: int = 250) -> None:
    clock = SystemClock()
    for i in range(0, len(due), batch):
        with db.sessions.begin() as session:
            for when in due[i : i + batch]:
                instances.start_process(
                    session,
                    process_key=PROCESS,
                    case=None,
                    actor=None,
                    clock=clock,
                    data={"due_at": when.isoformat()},
                )


def _plan(db: Database, n: int, window_s: float) -> tuple[datetime, datetime]:
    """Create the n instances with due times spread over [t0, t0 + window]; t0 is placed just
    after setup ends, estimated from a first batch, so no timer is due before the schedulers
    run."""
    probe = 200
    far = datetime.now(UTC) + timedelta(days=365)
    started = time.perf_counter()
    _start_instances(db, [far] * probe)  # calibration only: due next year, never fired here
    rate = probe / (time.perf_counter() - started)
    t0 = datetime.now(UTC) + timedelta(seconds=n / rate * 1.5 + 8)
    step = window_s / n
    _start_instances(db, [t0 + timedelta(seconds=i * step) for i in range(n)])
    if datetime.now(UTC) > t0 - timedelta(seconds=2):
        print("warning: timer setup ran late; the first timers may show setup time as lag")
    return t0, t0 + timedelta(seconds=window_s)


def _spawn(db: Database, owner: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.timer_worker",
            db.url,
            "--lease",
            str(LEASE_S),
            "--owner",
            owner,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # {"ready": owner} once the runner is started
    if "ready" not in line:
        raise RuntimeError(f"scheduler {owner} did not start: {line!r}")
    return proc


def _kill_while_leasing(db: Database, proc: subprocess.Popen[str], owner: str) -> None:
    """SIGKILL the scheduler at a moment it holds leased, unfired timers (within 5 s), so the
    lease-expiry path is what brings them back."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with db.sessions() as session:
            held = session.scalar(
                select(func.count())
                .select_from(Timer)
                .where(Timer.lease_owner == owner, Timer.status == "waiting")
            )
        if held:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _counts(db: Database, t0: datetime, t1: datetime) -> tuple[int, int]:
    with db.sessions() as session:
        rows = session.execute(
            select(Timer.status, func.count())
            .where(Timer.due_at >= t0, Timer.due_at <= t1)
            .group_by(Timer.status)
        ).all()
    by = dict(rows)
    return by.get("fired", 0), sum(by.values())


def _measure(db: Database, t0: datetime, t1: datetime) -> dict[str, Any]:
    with db.sessions() as session:
        timers = session.execute(
            select(Timer.id, Timer.due_at, Timer.fired_at, Timer.status, Timer.attempts).where(
                Timer.due_at >= t0, Timer.due_at <= t1
            )
        ).all()
        details = session.scalars(
            select(audit.AuditEvent.details).where(
                audit.AuditEvent.action == str(audit.AuditTag.TIMER_FIRED)
            )
        ).all()
    firings = collections.Counter(d.get("timer_id") for d in details)
    ids = {t.id for t in timers}
    fired = [t for t in timers if t.status == "fired" and t.fired_at is not None]
    lags = [(t.fired_at - t.due_at).total_seconds() for t in fired]
    last_fired = max((t.fired_at for t in fired), default=None)
    last_due = max((t.due_at for t in timers), default=t1)
    return {
        "timers": len(timers),
        "fired": len(fired),
        "lost": len(timers) - len(fired),
        "duplicates": sum(1 for tid, n in firings.items() if tid in ids and n > 1),
        "lag_p50_s": percentile(lags, 50) if lags else None,
        "lag_p99_s": percentile(lags, 99) if lags else None,
        "lag_max_s": max(lags) if lags else None,
        # From the moment the last timer fell due until the last one fired.
        "drain_s": max(0.0, (last_fired - last_due).total_seconds()) if last_fired else None,
        "retried": sum(1 for t in timers if t.attempts > 1),
    }


def scenario(n: int, window_s: float, *, kill_one: bool) -> dict[str, Any]:
    with fresh_database("postgresql", pool_size=5) as db:
        deploy_extra(db, {f"{PROCESS}.bpmn": DIAGRAM.encode()})
        t0, t1 = _plan(db, n, window_s)
        procs = [_spawn(db, f"scheduler-{i + 1}") for i in range(SCHEDULERS)]
        killed_at = None
        deadline = t1 + timedelta(seconds=60 + LEASE_S)
        try:
            while datetime.now(UTC) < deadline:
                if kill_one and killed_at is None and datetime.now(UTC) >= t0 + (t1 - t0) / 2:
                    _kill_while_leasing(db, procs[0], "scheduler-1")
                    killed_at = datetime.now(UTC)
                fired, total = _counts(db, t0, t1)
                if fired == total and datetime.now(UTC) > t1:
                    break
                time.sleep(0.25)
        finally:
            outputs = []
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    out, _ = proc.communicate(timeout=60)
                    outputs += [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        result = _measure(db, t0, t1)
        result["per_scheduler"] = {o["owner"]: o["fired"] for o in outputs if "owner" in o}
        result["killed_after_s"] = (killed_at - t0).total_seconds() if killed_at else None
        result["window_s"] = window_s
        return result


def run(*, quick: bool, backends: tuple[str, ...]) -> tuple[dict[str, Any], list[Table]]:
    keys = ("lag_p99_s", "drain_s", "duplicates", "lost")
    if "postgresql" not in backends:
        return {f"timers.{k}": None for k in keys} | {"timers.error": "needs PostgreSQL"}, []
    n, window = (1_000, 10.0) if quick else (10_000, 60.0)
    normal = scenario(n, window, kill_one=False)
    killed = scenario(n, window, kill_one=True)
    results: dict[str, Any] = {f"timers.{k}": normal[k] for k in keys}
    results |= {f"timers.killed.{k}": killed[k] for k in keys}
    results |= {"timers.lag_p50_s": normal["lag_p50_s"], "timers.count": n}
    results["timers.window_s"] = window
    results["timers.details"] = {"normal": normal, "one_scheduler_killed": killed}
    table = Table(
        f"Timers: {n:,} due within {window:.0f} s, {SCHEDULERS} scheduler processes, "
        f"PostgreSQL, lease {LEASE_S} s",
        ("run", "fired", "lost", "duplicates", "lag p50 s", "lag p99 s", "lag max s", "drain s"),
    )
    for label, r in (("both schedulers", normal), ("one killed (SIGKILL) mid-run", killed)):
        table.add(
            label,
            r["fired"],
            r["lost"],
            r["duplicates"],
            r["lag_p50_s"],
            r["lag_p99_s"],
            r["lag_max_s"],
            r["drain_s"],
        )
    table.notes.append("targets: lag p99 <= 1 s, drained <= 10 s, 0 duplicates, 0 lost")
    table.notes.append(
        "per scheduler: "
        + "; ".join(
            f"{label}: {r['per_scheduler']}" for label, r in (("normal", normal), ("kill", killed))
        )
    )
    return results, [table]
