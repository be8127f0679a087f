"""Run the benchmarks, print a table for each, write bench/results/latest.json.

    python -m bench.run --quick          # every benchmark at small N (under 3 minutes)
    python -m bench.run --full           # the sizes of docs/performance.md
    python -m bench.run --quick --only engine,growth

Every key of the contract (REQUIRED) is always written; a benchmark that could not run (no
PostgreSQL, no web app, an error) writes null for its keys and says why under "errors". A run
with --only writes bench/results/partial-<time>.json and leaves latest.json alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import common, engine_throughput, growth, http_api, inbox, reports, timers
from bench.common import Table

RESULTS = Path(__file__).resolve().parent / "results"

# key -> (target, higher is better); None: measured, no target.
REQUIRED: dict[str, tuple[float | None, bool]] = {
    "engine.sqlite_completions_per_s": (1000.0, True),
    "engine.postgres_completions_per_s": (None, True),
    "engine.bare_completions_per_s": (None, True),
    "engine.bare_serialized_completions_per_s": (None, True),
    "inbox.p95_ms_engine": (10.0, False),
    "inbox.p95_ms_http": (30.0, False),
    "reports.p95_ms": (200.0, False),
    "timers.lag_p99_s": (1.0, False),
    "timers.drain_s": (10.0, False),
    "timers.duplicates": (0, False),
    "timers.lost": (0, False),
    "growth.cost_ratio_200_vs_10": (2.0, False),
    "http.completions_per_s": (None, True),
    "http.p95_ms": (None, False),
}
# Derived targets: persisted >= 0.5 x bare with serialization.
RATIOS = {
    "engine.sqlite_vs_bare_serialized": (0.5, True),
    "engine.postgres_vs_bare_serialized": (0.5, True),
}

Bench = Callable[..., tuple[dict[str, Any], list[Table]]]
BENCHMARKS: dict[str, Bench] = {
    "engine": engine_throughput.run,
    "inbox": inbox.run,
    "reports": reports.run,
    "timers": timers.run,
    "growth": growth.run,
    "http": http_api.run,
}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        info["memory_gib"] = round(kb / 1024 / 1024, 1)
        info["load_average_at_start"] = os.getloadavg()
    except (OSError, StopIteration, ValueError):
        pass
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=RESULTS.parent.parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def verdict_table(values: dict[str, Any]) -> Table:
    table = Table("Figures beside their targets", ("key", "value", "target", "verdict"))
    for key, (target, higher) in {**REQUIRED, **RATIOS}.items():
        value = values.get(key)
        if target is None:
            table.add(key, value, "-", "measured" if value is not None else "not measured")
            continue
        sign = ">=" if higher else "<="
        met = common.verdict(value, target, higher_is_better=higher)
        table.add(key, value, f"{sign} {target:g}", met)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small N, under 3 minutes (default)")
    mode.add_argument("--full", action="store_true", help="the documented sizes")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHMARKS))
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    quick = not args.full
    only = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    backends = tuple(b for b in args.backends.split(",") if b)
    errors: dict[str, str] = {}
    if "postgresql" in backends and not common.postgres_available():
        backends = tuple(b for b in backends if b != "postgresql")
        errors["postgresql"] = f"PostgreSQL at {common.PG_URL} did not answer: skipped"
        print(f"warning: {errors['postgresql']}")

    started = datetime.now(UTC)
    values: dict[str, Any] = {key: None for key in REQUIRED}
    details: dict[str, Any] = {}
    durations: dict[str, float] = {}
    print(f"CareBridge benchmarks, {'quick' if quick else 'full'}; backends: {', '.join(backends)}")
    for name in only:
        fn = BENCHMARKS[name]
        t0 = time.perf_counter()
        try:
            results, tables = fn(quick=quick, backends=backends)
        except Exception as exc:  # noqa: BLE001  (one failing benchmark must not hide the others)
            errors[name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            results, tables = {}, []
        durations[name] = time.perf_counter() - t0
        for key, value in results.items():
            if key.endswith(".details"):
                details[key.removesuffix(".details")] = value
            else:
                values[key] = value
        for table in tables:
            print()
            print(table.render())
        print(f"({name}: {durations[name]:.0f} s)")

    summary = verdict_table(values)
    print()
    print(summary.render())
    report = {
        "mode": "quick" if quick else "full",
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "duration_s": {**durations, "total": sum(durations.values())},
        "machine": machine(),
        "backends": list(backends),
        **dict(sorted(values.items())),
        "targets": {
            key: {"target": target, "higher_is_better": higher}
            for key, (target, higher) in {**REQUIRED, **RATIOS}.items()
            if target is not None
        },
        "errors": errors,
        "details": details,
    }
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(report, indent=2, default=str) + "\n"
    complete = set(only) == set(BENCHMARKS)
    kind = report["mode"] if complete else "partial"
    written = [RESULTS / f"{kind}-{started:%Y%m%dT%H%M%S}.json"]
    if complete:  # a run of some benchmarks only does not replace the last complete one
        written.insert(0, RESULTS / "latest.json")
    for path in written:
        path.write_text(text)
    print(f"\nwrote {', '.join(str(p) for p in written)} ({sum(durations.values()):.0f} s)")
    return 1 if errors.keys() - {"postgresql"} else 0


if __name__ == "__main__":
    sys.exit(main())
