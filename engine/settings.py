"""Settings are read from CAREBRIDGE_* once, at the edge, and passed down."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'var' / 'carebridge.sqlite3'}"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    scheduler: str = "embedded"  # embedded | off
    site_timezone: str = "America/New_York"
    holiday_country: str = "US"
    holiday_subdivision: str | None = None
    processes_dir: Path = ROOT / "processes"
    forms_dir: Path = ROOT / "forms"
    script_timeout_s: float = 1.0
    timer_lease_s: int = 60
    demo_password: str | None = None
    # Live workflows a process keeps between commands (engine.instances.live); 0 turns it off.
    live_workflows: int = 256
    # Rewritten by `carebridge scheduler` after each pass, read by `carebridge scheduler --check`.
    scheduler_heartbeat: Path = ROOT / "var" / "scheduler-heartbeat.json"
    testing: bool = False


_ENV = {
    "database_url": "CAREBRIDGE_DATABASE_URL",
    "secret_key": "CAREBRIDGE_SECRET_KEY",
    "scheduler": "CAREBRIDGE_SCHEDULER",
    "site_timezone": "CAREBRIDGE_TIMEZONE",
    "holiday_country": "CAREBRIDGE_HOLIDAY_COUNTRY",
    "holiday_subdivision": "CAREBRIDGE_HOLIDAY_SUBDIVISION",
    "demo_password": "CAREBRIDGE_DEMO_PASSWORD",
    "live_workflows": "CAREBRIDGE_LIVE_WORKFLOWS",
    "scheduler_heartbeat": "CAREBRIDGE_SCHEDULER_HEARTBEAT",
}
_PATHS = {"scheduler_heartbeat"}
_INTEGERS = {"live_workflows"}


SECRET_FILE = ROOT / "var" / "secret-key"


def _stable_secret() -> str:
    """Without CAREBRIDGE_SECRET_KEY, one key is generated once and kept in var/, so sessions
    survive restarts and every worker process of one install signs cookies alike."""
    try:
        return SECRET_FILE.read_text().strip()
    except FileNotFoundError:
        SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
    except OSError:
        return secrets.token_hex(32)


def load_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {}
    for name, var in _ENV.items():
        if os.environ.get(var):
            raw = os.environ[var]
            if name in _INTEGERS:
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ValueError(f"{var} must be a whole number, not {raw!r}") from None
            elif name in _PATHS:
                values[name] = Path(raw)
            else:
                values[name] = raw
    values.update(overrides)
    if "secret_key" not in values:
        values["secret_key"] = _stable_secret()
    return replace(Settings(), **values)
