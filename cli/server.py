"""`carebridge serve` in production: gunicorn workers, and the embedded scheduler in exactly
one process of its own.

The app is built once in gunicorn's master (create_app is side-effect free: no connection is
open yet) and the workers are forked from it, so every worker signs cookies with one key and
runs the same wiring. The timer runner is not started in the workers (N workers would mean N
schedulers competing for leases, and a worker recycled by gunicorn would take its scheduler
with it) nor in the master (which forks workers and must hold no threads with database
connections): the master starts `carebridge scheduler` as a child once it is listening,
restarts it if it dies, and stops it on shutdown. Timers created by a request are found by the
child's sweep (EMBEDDED_SWEEP_S) rather than by a nudge from the request's own process.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

log = logging.getLogger("carebridge.serve")

# How often the embedded scheduler looks for timers another process (a web worker) created.
EMBEDDED_SWEEP_S = 5.0
# Gunicorn's worker class: threads, so one slow request does not hold a whole worker.
THREADS_PER_WORKER = 4


class SchedulerChild:
    """One `carebridge scheduler` process, restarted if it exits while we are running. Only
    the process that started it (gunicorn's master) ever stops it: a forked worker holds a
    copy of this object too."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc: subprocess.Popen[bytes] | None = None
        self._owner_pid = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> None:
        with self._lock:
            self._owner_pid = os.getpid()
            self._stopping.clear()
            self.proc = subprocess.Popen(self.argv)  # noqa: S603 (our own console script)
        threading.Thread(target=self._watch, name="scheduler-watch", daemon=True).start()

    def _watch(self) -> None:
        while True:
            proc = self.proc
            assert proc is not None
            proc.wait()
            if self._stopping.wait(1.0):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                log.warning("the scheduler process exited (%s); restarting it", proc.returncode)
                self.proc = subprocess.Popen(self.argv)  # noqa: S603

    def stop(self, timeout: float = 8.0) -> None:
        if os.getpid() != self._owner_pid:
            return
        with self._lock:
            self._stopping.set()
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def scheduler_argv() -> list[str]:
    """This interpreter running this checkout's CLI: the same code and environment."""
    return [sys.executable, "-m", "cli.main", "scheduler", "--sweep", str(EMBEDDED_SWEEP_S)]


class Server(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def gunicorn_options(
    *, host: str, port: int, workers: int, scheduler: SchedulerChild | None, app: Flask
) -> dict[str, Any]:
    def when_ready(_arbiter: Any) -> None:
        if scheduler is not None:
            scheduler.start()

    def on_exit(_arbiter: Any) -> None:
        if scheduler is not None:
            scheduler.stop()

    def post_fork(_arbiter: Any, _worker: Any) -> None:
        # A forked worker must not share a pooled connection with its siblings.
        bind = app.extensions["carebridge"].sessions.kw.get("bind")
        if bind is not None and hasattr(bind, "dispose"):
            bind.dispose(close=False)

    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": THREADS_PER_WORKER,
        "preload_app": True,
        "graceful_timeout": 10,
        "accesslog": "-",
        "when_ready": when_ready,
        "on_exit": on_exit,
        "post_fork": post_fork,
    }


def run(app: Flask, *, host: str, port: int, workers: int, embedded_scheduler: bool) -> None:
    """Serve `app` with gunicorn until stopped (SIGTERM/SIGINT)."""
    scheduler = SchedulerChild(scheduler_argv()) if embedded_scheduler else None
    options = gunicorn_options(host=host, port=port, workers=workers, scheduler=scheduler, app=app)
    # No try/finally here: a forked worker unwinds through this frame when it exits. The
    # master stops the scheduler in gunicorn's on_exit hook.
    Server(app, options).run()
