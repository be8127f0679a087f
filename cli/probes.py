"""`carebridge healthcheck`: one container health probe for every command of the image.

A Dockerfile has one HEALTHCHECK for all the containers of its image, which run different
commands (gunicorn, `carebridge scheduler`, `carebridge init`). The probe reads the
container's main command (PID 1, or the one after `docker run --init`'s tini) and checks what
suits it: the web app's /healthz, the scheduler's heartbeat, nothing for a one-off command."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MAIN_COMMAND = Path("/proc/1/cmdline")
GUNICORN_PORT = 8000
SERVE_PORT = 5000

Role = Literal["web", "scheduler", "one-off"]


@dataclass(frozen=True)
class Target:
    role: Role
    port: int | None = None  # the web app's port on 127.0.0.1


def main_command(path: Path = MAIN_COMMAND) -> list[str]:
    """The argv of the container's main process ([] when it cannot be read)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def target_of(argv: Sequence[str]) -> Target:
    names = [Path(arg).name for arg in argv]
    if "gunicorn" in names or any(name.endswith("gunicorn") for name in names):
        return Target("web", _gunicorn_port(argv))
    if "carebridge" in names:
        rest = names[names.index("carebridge") + 1 :]
        if rest[:1] == ["scheduler"]:
            return Target("scheduler")
        if rest[:1] == ["serve"]:
            return Target("web", _option_int(argv, "--port") or SERVE_PORT)
    return Target("one-off")


def _gunicorn_port(argv: Sequence[str]) -> int:
    for i, arg in enumerate(argv):
        bind = None
        if arg in ("-b", "--bind") and i + 1 < len(argv):
            bind = argv[i + 1]
        elif arg.startswith("--bind="):
            bind = arg.split("=", 1)[1]
        if bind and ":" in bind and bind.rsplit(":", 1)[1].isdigit():
            return int(bind.rsplit(":", 1)[1])
    return GUNICORN_PORT


def _option_int(argv: Sequence[str], name: str) -> int | None:
    for i, arg in enumerate(argv):
        value = None
        if arg == name and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
        if value is not None and value.isdigit():
            return int(value)
    return None


def http_problem(url: str, *, timeout_s: float = 4.0) -> str | None:
    """None when `url` answers 200, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (loopback)
            if response.status == 200:
                return None
            return f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{url} did not answer: {exc}"
