"""A small pool of worker processes in which diagram code runs under hard limits.

RestrictedPython decides what a script may *name*; it cannot stop one C-level operation
(`10**10**7`, `'x' * 10**9`) that holds the GIL for seconds and all the memory it asks for, and
while it runs every other thread of the server (requests, /healthz, the timer scheduler)
waits. So scripts, conditions, DMN expressions and instruction templates run in separate
processes (engine.workflow.sandbox_worker) that limit themselves with `setrlimit` (address
space, CPU seconds, no files, no child processes) before they read any request, and this side
enforces a wall-clock deadline: a worker that has not answered by then is killed (SIGKILL) and
replaced, and the command fails with a ScriptError. Only the thread that asked waits; nothing
is held while it does but the worker itself.

Requests go to the worker pickled (it trusts us); answers come back as JSON (we do not trust
it: code that escaped the sandbox inside the worker could forge a pickle, not JSON), so what a
script leaves in task data is JSON's types by construction. Workers start lazily (~0.1 s), at
most `size` at a time; one is only ever used by one thread at a time.
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["SANDBOX", "SandboxPool", "WorkerDied", "WorkerTimedOut"]

_ROOT = Path(__file__).resolve().parents[2]
_HEADER = 4
# Task data is small (ids and small values): an answer beyond this is a script building a blob.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# Past a request's own timeout (which the worker's deadline checks usually honour with a precise
# message), how long a worker stuck inside one C call may go on before it is killed.
KILL_GRACE_S = 0.5
# A new worker's start (interpreter, imports, limits) is not the request's time; past this it
# is taken for broken.
BOOT_TIMEOUT_S = 20.0
_READY = b"R"
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from engine.workflow.sandbox_worker import main; main(int(sys.argv[2]))"
)


class WorkerTimedOut(Exception):
    """The worker did not answer before the deadline and was killed."""


class WorkerDied(Exception):
    """The worker ended (a resource limit, or a crash) without answering."""


class _BootFailed(WorkerDied):
    """The worker ended before it was ready: no request reached it, so it is safe to retry."""


class _Worker:
    def __init__(self, memory_bytes: int) -> None:
        # A minimal environment: the worker runs diagram code, it gets no secrets or database
        # URL from ours. -I: no user site, no PYTHON* variables, no current directory on the path.
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-I", "-c", _BOOT, str(_ROOT), str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
            close_fds=True,
        )
        self._out = self.proc.stdout.fileno()  # type: ignore[union-attr]
        self._ready = False

    def call(self, payload: bytes, deadline: float) -> dict[str, Any]:
        if not self._ready:
            # The request's clock starts once the worker has booted and limited itself.
            started = time.monotonic()
            try:
                ready = self._read(1, started + BOOT_TIMEOUT_S)
            except (WorkerDied, WorkerTimedOut):
                raise _BootFailed from None
            if ready != _READY:
                raise _BootFailed
            self._ready = True
            deadline += time.monotonic() - started
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(len(payload).to_bytes(_HEADER, "big") + payload)
            stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied from None
        header = self._read(_HEADER, deadline)
        size = int.from_bytes(header, "big")
        if size > MAX_ANSWER_BYTES:
            raise WorkerDied("answer too large")
        return json.loads(self._read(size, deadline))

    def _read(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise WorkerTimedOut
            ready, _, _ = select.select([self._out], [], [], wait)
            if not ready:
                raise WorkerTimedOut
            chunk = os.read(self._out, min(remaining, 1 << 20))
            if not chunk:
                raise WorkerDied
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not refused
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


class SandboxPool:
    def __init__(self, *, size: int = 4, memory_mb: int = 512) -> None:
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0
        self._pid = os.getpid()
        self.size = 0
        self.memory_bytes = 0
        self.configure(size=size, memory_mb=memory_mb)
        self.killed = 0  # workers killed at a deadline or lost to a limit (for tests, metrics)

    def configure(self, *, size: int, memory_mb: int) -> None:
        if size < 1 or memory_mb < 64:
            raise ValueError("a sandbox pool needs at least 1 worker and 64 MB per worker")
        memory_bytes = memory_mb * 1024 * 1024
        with self._cond:
            if self.memory_bytes == memory_bytes and self.size == size:
                return
            self.size = size
            self.memory_bytes = memory_bytes
        self.shutdown()  # idle workers started with other limits go

    def call(self, request: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
        """Send `request` to a worker and return its answer. WorkerTimedOut when it has not
        answered within `timeout_s` + KILL_GRACE_S (the worker is killed), WorkerDied when it
        ended without answering (a limit); a replacement starts on the next call."""
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        for attempt in (1, 2):
            worker = self._acquire()
            healthy = False
            try:
                answer = worker.call(payload, time.monotonic() + timeout_s + KILL_GRACE_S)
                healthy = not answer.pop("recycle", False)
                return answer
            except _BootFailed:
                if attempt == 2:
                    raise
            finally:
                self._release(worker, healthy=healthy)
        raise AssertionError("unreachable")  # pragma: no cover

    def _acquire(self) -> _Worker:
        with self._cond:
            if self._pid != os.getpid():
                # Forked (a gunicorn worker of a preloaded app): the workers and their pipes
                # are the parent's. Forget them; this process starts its own.
                self._idle, self._count, self._pid = [], 0, os.getpid()
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        if not self._idle:
                            self._warm_spare()
                        return worker
                    self._count -= 1
                    worker.kill()
                if self._count < self.size:
                    self._count += 1
                    memory = self.memory_bytes
                    break
                self._cond.wait()
        try:
            return _Worker(memory)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker, *, healthy: bool) -> None:
        if not healthy:
            worker.kill()
        with self._cond:
            if healthy and worker.alive():
                self._idle.append(worker)
            else:
                self._count -= 1
                self.killed += 0 if healthy else 1
                if not self._idle:
                    self._warm_spare()
            self._cond.notify()

    def _warm_spare(self) -> None:
        """Start one worker in the background when none is idle, so the next command (often a
        concurrent one, while another script is stuck) does not pay the ~0.1 s start. Called
        with the lock held."""
        if self._count >= self.size:
            return
        self._count += 1
        memory = self.memory_bytes

        def start() -> None:
            try:
                worker = _Worker(memory)
            except BaseException:
                with self._cond:
                    self._count -= 1
                    self._cond.notify()
                return
            with self._cond:
                self._idle.append(worker)
                self._cond.notify()

        threading.Thread(target=start, name="sandbox-spare", daemon=True).start()

    def shutdown(self) -> None:
        """End the idle workers (busy ones end when their caller returns them)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()


SANDBOX = SandboxPool()
atexit.register(SANDBOX.shutdown)
