"""Benchmark 5: task completions through the JSON API on a real server.

gunicorn serves `web.wsgi:app` (the Dockerfile's command: sync workers with 4 threads each) with
2 and then 4 workers, on SQLite and on PostgreSQL. Eight client threads on loopback, each a
social worker with an API token, work through their own cases (opened beforehand through the
engine): for intake, assessment and care plan, `POST /api/v1/tasks/<id>/claim` then
`POST /api/v1/tasks/<id>/complete {"data": ...}`, the next task's id taken from the answer's
`next_tasks`. Completions/s = completions / wall time; latency percentiles per request type.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import Table, fresh_database, make_users, summary_ms
from bench.engine_throughput import form_data
from bench.http_client import Client
from bench.http_server import Server, web_available
from engine import cases
from engine.accounts import create_token
from engine.clock import SystemClock

CLIENTS = 8
STEPS = ("intake", "assessment", "care_plan")


def _users(db: Any) -> dict[str, Any]:
    return make_users(
        db, {"cm": ("case_manager",)} | {f"sw{i}": ("social_worker",) for i in range(CLIENTS)}
    )


def _prepare(db: Any, users: dict[str, Any], cases_per_client: int) -> list[dict[str, Any]]:
    """A token per client thread (one social worker each), and their cases' first tasks."""
    clock = SystemClock()
    plans = []
    with db.sessions.begin() as session:
        for i in range(CLIENTS):
            worker = users[f"sw{i}"]
            token = create_token(session, worker, name="bench", now=clock.now())
            first_tasks = []
            for n in range(cases_per_client):
                _, started = cases.open_case(
                    session,
                    client={
                        "given_name": "Http",
                        "family_name": f"Client{i}x{n}",
                        "birth_date": "1955-05-05",
                    },
                    reason="Benchmark",
                    actor=users["cm"],
                    clock=clock,
                )
                [task] = started.created_tasks
                first_tasks.append(task.id)
            plans.append({"token": token, "tasks": first_tasks})
    return plans


def _worker(
    base_url: str, plan: dict[str, Any], out: dict[str, list[float]], errors: list[str]
) -> None:
    client = Client(base_url, plan["token"])
    try:
        for first in plan["tasks"]:
            task_id = first
            for step in STEPS:
                start = time.perf_counter()
                status, body = client.post(f"/api/v1/tasks/{task_id}/claim", {})
                out["claim"].append(time.perf_counter() - start)
                if status != 200:
                    errors.append(f"claim {task_id}: {status} {body[:200]!r}")
                    return
                start = time.perf_counter()
                status, body = client.post(
                    f"/api/v1/tasks/{task_id}/complete", {"data": form_data(step)}
                )
                out["complete"].append(time.perf_counter() - start)
                if status != 200:
                    errors.append(f"complete {step} {task_id}: {status} {body[:300]!r}")
                    return
                nxt = [t for t in json.loads(body)["next_tasks"] if t["status"] == "open"]
                if step != STEPS[-1]:
                    task_id = nxt[0]["id"]
    finally:
        client.close()


def _drive(base_url: str, plans: list[dict[str, Any]]) -> tuple[dict[str, Any], float, int]:
    samples: list[dict[str, list[float]]] = [{"claim": [], "complete": []} for _ in plans]
    errors: list[str] = []
    threads = [
        threading.Thread(target=_worker, args=(base_url, plan, samples[i], errors))
        for i, plan in enumerate(plans)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError("HTTP benchmark requests failed: " + "; ".join(errors[:3]))
    merged = {k: [x for s in samples for x in s[k]] for k in ("claim", "complete")}
    return merged, elapsed, len(merged["complete"])


def run_config(backend: str, workers: int, cases_per_client: int) -> dict[str, Any]:
    with fresh_database(backend, pool_size=2) as db:
        users = _users(db)
        warm = _prepare(db, users, 2)
        plans = _prepare(db, users, cases_per_client)
        with Server(db, workers=workers) as server:
            _drive(server.url, warm)  # every worker parses the specs and fills its caches
            samples, elapsed, completions = _drive(server.url, plans)
        return {
            "backend": backend,
            "workers": workers,
            "completions": completions,
            "elapsed_s": elapsed,
            "completions_per_s": completions / elapsed,
            "requests_per_s": (completions + len(samples["claim"])) / elapsed,
            "latency_ms": {k: summary_ms(v) for k, v in samples.items()},
        }


def run(*, quick: bool, backends: tuple[str, ...]) -> tuple[dict[str, Any], list[Table]]:
    if not web_available():
        return {"http.completions_per_s": None, "http.p95_ms": None, "http.error": "no web app"}, []
    per_client = 4 if quick else 25
    configs = [(b, w) for b in backends for w in (2, 4)]
    details = {f"{b}.w{w}": run_config(b, w, per_client) for b, w in configs}
    best = max(details.values(), key=lambda d: d["completions_per_s"])
    results: dict[str, Any] = {
        "http.completions_per_s": best["completions_per_s"],
        "http.p95_ms": best["latency_ms"]["complete"]["p95"],
        "http.best_config": f"{best['backend']}, {best['workers']} workers",
        "http.details": details,
    }
    for key, d in details.items():
        results[f"http.{key}.completions_per_s"] = d["completions_per_s"]
        results[f"http.{key}.p95_ms"] = d["latency_ms"]["complete"]["p95"]
    table = Table(
        f"HTTP: gunicorn web.wsgi:app (4 threads/worker), {CLIENTS} clients on loopback, "
        "claim + complete (intake, assessment, care plan)",
        (
            "backend",
            "workers",
            "completions",
            "completions/s",
            "complete p50",
            "complete p95",
            "claim p95",
        ),
    )
    for d in details.values():
        table.add(
            d["backend"],
            d["workers"],
            d["completions"],
            d["completions_per_s"],
            d["latency_ms"]["complete"]["p50"],
            d["latency_ms"]["complete"]["p95"],
            d["latency_ms"]["claim"]["p95"],
        )
    table.notes.append(f"headline: best configuration ({results['http.best_config']}); ms")
    table.notes.append(f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    return results, [table]
