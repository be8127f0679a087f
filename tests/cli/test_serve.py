"""`carebridge serve`: gunicorn with --workers N and the embedded scheduler in exactly one
process of its own; everything stops with the server. A real server on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import serve
from cli.server import gunicorn_options
from engine.settings import load_settings
from web import create_app

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite") != "sqlite",
    reason="serve runs on its own SQLite file; the PostgreSQL pass covers the engine",
)


def _script() -> str:
    for candidate in (
        ROOT / ".venv" / "bin" / "carebridge",
        Path(sys.executable).parent / "carebridge",
    ):
        if candidate.is_file():
            return str(candidate)
    pytest.skip("the carebridge console script is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own server)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _children(pid: int) -> list[str]:
    """Command lines of the live processes whose parent is `pid` (from /proc)."""
    found = []
    for child in _pids():
        if _ppid(child) != pid or not _alive(child):
            continue
        try:
            found.append(Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    env = {
        **os.environ,
        "CAREBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "CAREBRIDGE_SCHEDULER": "embedded",
        "CAREBRIDGE_SECRET_KEY": "serve-test-secret",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    script = _script()
    subprocess.run([script, "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [script, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(f"{base}/healthz"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not start:\n{(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.2)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)
        log.close()


def _wait_for(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_serve_runs_gunicorn_workers_and_one_scheduler_process(serving):
    proc, _base = serving

    def settled() -> bool:
        kids = _children(proc.pid)
        return sum("scheduler" in c for c in kids) == 1 and len(kids) == 3

    assert _wait_for(settled), _children(proc.pid)
    kids = _children(proc.pid)
    assert sum("scheduler" in c for c in kids) == 1
    assert sum("serve" in c and "scheduler" not in c for c in kids) == 2


def test_stopping_the_server_stops_its_workers_and_its_scheduler(serving):
    proc, _base = serving
    assert _wait_for(lambda: len(_children(proc.pid)) == 3)
    kids = [pid for pid in _pids() if _ppid(pid) == proc.pid]
    proc.terminate()
    assert proc.wait(timeout=20) == 0
    assert _wait_for(lambda: not any(_alive(pid) for pid in kids))


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _ppid(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def test_serve_defaults_to_two_workers_and_uses_werkzeug_only_with_dev():
    params = {p.name: p for p in serve.params}
    assert params["workers"].default == 2
    assert params["dev"].is_flag
    assert params["dev"].default is False


def test_the_app_is_built_once_and_forked_into_the_workers():
    app = create_app(load_settings(database_url="sqlite://", secret_key="k", testing=True))
    options = gunicorn_options(host="127.0.0.1", port=1, workers=3, scheduler=None, app=app)
    assert (options["workers"], options["preload_app"], options["bind"]) == (3, True, "127.0.0.1:1")
