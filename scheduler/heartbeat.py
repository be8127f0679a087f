"""The scheduler's heartbeat, for container health checks.

A running `carebridge scheduler` rewrites one small file each time a pass has reached the
database (at least once per safety sweep); `carebridge scheduler --check` reads it. A stale or
missing file means the process is stuck, cannot reach the database, or is not running. The
file carries the interval it promises, so the probe needs no copy of the scheduler's options.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

# Missed beats tolerated before the scheduler counts as unhealthy, and a margin for a pass
# that is busy firing a batch (a batch stops at LEASE_BUDGET of the lease, then beats).
MISSED_BEATS = 3
GRACE_S = 30.0


def beat(path: Path, *, at: datetime, interval_s: float) -> None:
    """Record a live pass at `at`; written whole (rename) so a probe never reads half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"at": at.isoformat(), "interval_s": interval_s, "pid": os.getpid()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def problem(path: Path, *, now: datetime) -> str | None:
    """None when the last beat is recent enough, else why the scheduler is unhealthy."""
    try:
        record = json.loads(path.read_text())
        at = datetime.fromisoformat(record["at"])
        interval_s = float(record["interval_s"])
    except FileNotFoundError:
        return f"no heartbeat at {path}: the scheduler has not completed a pass"
    except (OSError, ValueError, KeyError, TypeError):
        return f"the heartbeat at {path} is unreadable"
    age = (now - at).total_seconds()
    allowed = MISSED_BEATS * interval_s + GRACE_S
    if age > allowed:
        return f"the last pass was {age:.0f} s ago (more than {allowed:.0f} s)"
    return None
