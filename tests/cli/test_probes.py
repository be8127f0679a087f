"""`carebridge healthcheck` and `carebridge scheduler --check`: the container health probes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import probes
from cli.main import main
from scheduler import heartbeat


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["/usr/local/bin/python3.11", "/usr/local/bin/gunicorn", "--bind", "0.0.0.0:8000"],
            probes.Target("web", 8000),
        ),
        (["gunicorn", "-b", "0.0.0.0:9100", "web.wsgi:app"], probes.Target("web", 9100)),
        (["gunicorn", "--bind=[::]:8080", "web.wsgi:app"], probes.Target("web", 8080)),
        (["gunicorn", "web.wsgi:app"], probes.Target("web", probes.GUNICORN_PORT)),
        (["/usr/local/bin/carebridge", "scheduler"], probes.Target("scheduler")),
        (
            ["/sbin/docker-init", "--", "carebridge", "scheduler", "--sweep", "30"],
            probes.Target("scheduler"),
        ),
        (["carebridge", "serve", "--port", "5050"], probes.Target("web", 5050)),
        (["carebridge", "serve"], probes.Target("web", probes.SERVE_PORT)),
        (["carebridge", "init"], probes.Target("one-off")),
        (["bash"], probes.Target("one-off")),
        ([], probes.Target("one-off")),
    ],
)
def test_the_target_follows_the_containers_main_command(
    argv: list[str], expected: probes.Target
) -> None:
    assert probes.target_of(argv) == expected


def test_the_main_command_is_read_from_a_nul_separated_cmdline(tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"/usr/local/bin/carebridge\0scheduler\0")
    assert probes.main_command(cmdline) == ["/usr/local/bin/carebridge", "scheduler"]


def test_an_unreadable_main_command_is_empty(tmp_path: Path) -> None:
    assert probes.main_command(tmp_path / "absent") == []


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_http_probe_accepts_a_200(health_server: ThreadingHTTPServer) -> None:
    _Health.status = 200
    url = f"http://127.0.0.1:{health_server.server_address[1]}/healthz"
    assert probes.http_problem(url) is None


def test_http_probe_refuses_a_503(health_server: ThreadingHTTPServer) -> None:
    _Health.status = 503
    url = f"http://127.0.0.1:{health_server.server_address[1]}/healthz"
    try:
        found = probes.http_problem(url)
    finally:
        _Health.status = 200
    assert found is not None
    assert "503" in found


def test_http_probe_refuses_a_closed_port() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    server.server_close()
    found = probes.http_problem(f"http://127.0.0.1:{port}/healthz", timeout_s=1)
    assert found is not None
    assert "did not answer" in found


@pytest.fixture
def beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "scheduler-heartbeat.json"
    monkeypatch.setenv("CAREBRIDGE_SCHEDULER_HEARTBEAT", str(path))
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    return path


def _cmdline(tmp_path: Path, *argv: str) -> str:
    path = tmp_path / "cmdline"
    path.write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    return str(path)


def test_scheduler_check_passes_on_a_fresh_heartbeat(beat_file: Path) -> None:
    heartbeat.beat(beat_file, at=datetime.now(UTC), interval_s=15.0)
    result = CliRunner().invoke(main, ["scheduler", "--check"])
    assert result.exit_code == 0, result.output


def test_scheduler_check_fails_on_a_stale_heartbeat(beat_file: Path) -> None:
    heartbeat.beat(beat_file, at=datetime.now(UTC) - timedelta(hours=1), interval_s=15.0)
    result = CliRunner().invoke(main, ["scheduler", "--check"])
    assert result.exit_code == 1
    assert "unhealthy" in result.output


def test_scheduler_check_fails_without_a_heartbeat(beat_file: Path) -> None:
    result = CliRunner().invoke(main, ["scheduler", "--check"])
    assert result.exit_code == 1


def test_healthcheck_of_a_scheduler_container_reads_its_heartbeat(
    beat_file: Path, tmp_path: Path
) -> None:
    cmdline = _cmdline(tmp_path, "carebridge", "scheduler")
    assert CliRunner().invoke(main, ["healthcheck", "--cmdline", cmdline]).exit_code == 1
    beat_file.write_text(
        json.dumps({"at": datetime.now(UTC).isoformat(), "interval_s": 15.0, "pid": 1})
    )
    assert CliRunner().invoke(main, ["healthcheck", "--cmdline", cmdline]).exit_code == 0


def test_healthcheck_of_a_web_container_asks_healthz(
    beat_file: Path, tmp_path: Path, health_server: ThreadingHTTPServer
) -> None:
    port = health_server.server_address[1]
    cmdline = _cmdline(tmp_path, "carebridge", "serve", "--port", str(port))
    result = CliRunner().invoke(main, ["healthcheck", "--cmdline", cmdline])
    assert result.exit_code == 0, result.output
    assert f"127.0.0.1:{port}/healthz" in result.output


def test_healthcheck_of_an_init_container_probes_nothing(beat_file: Path, tmp_path: Path) -> None:
    cmdline = _cmdline(tmp_path, "carebridge", "init")
    result = CliRunner().invoke(main, ["healthcheck", "--cmdline", cmdline])
    assert result.exit_code == 0
    assert "nothing to probe" in result.output
