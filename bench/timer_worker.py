"""One scheduler process for the timer benchmark: `scheduler.TimerRunner` on a database URL,
run until SIGTERM (or killed), as `carebridge scheduler` runs it.

    python -m bench.timer_worker URL --lease 3 --owner worker-1
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from engine.db import make_engine, make_sessionmaker
from scheduler import TimerRunner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--lease", type=int, default=3)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--sweep", type=float, default=15.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sessions = make_sessionmaker(make_engine(args.url, pool_size=4))
    fired = 0

    def count(_timer_id: int) -> None:
        nonlocal fired
        fired += 1

    runner = TimerRunner(
        sessions, owner=args.owner, lease_s=args.lease, sweep_s=args.sweep, on_fired=count
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runner.start()
    print(json.dumps({"ready": args.owner}), flush=True)
    stop.wait()
    runner.stop()
    print(json.dumps({"owner": args.owner, "fired": fired}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
