"""A real CareBridge web server for the HTTP benchmarks: gunicorn serving `web.wsgi:app` (as the
Dockerfile does) on a free loopback port, against the benchmark's database."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from bench.common import Database
from engine.settings import ROOT


def web_available() -> bool:
    try:
        import web  # noqa: F401

        return (ROOT / "web" / "wsgi.py").exists()
    except Exception:  # noqa: BLE001  (a half-built web app counts as absent)
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db: Database, *, workers: int, threads: int = 4) -> None:
        self.db = db
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"carebridge-bench-{self.port}.log"

    def __enter__(self) -> Server:
        env = dict(os.environ)
        env.update(
            CAREBRIDGE_DATABASE_URL=self.db.url,
            CAREBRIDGE_SCHEDULER="off",
            CAREBRIDGE_SECRET_KEY=secrets.token_hex(16),
            PYTHONPATH=str(ROOT),
        )
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(gunicorn),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                    "--log-level",
                    "warning",
                    "web.wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz: {self.log.read_text()[-2000:]}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.unlink(missing_ok=True)
