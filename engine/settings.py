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
    testing: bool = False
    # Server-side sign-in sessions: idle timeout and absolute lifetime.
    session_idle_minutes: int = 15
    session_max_hours: int = 12
    # Cookies only over HTTPS; `make run` and the e2e server turn it off (plain http on loopback).
    secure_cookies: bool = True
    # Failed sign-ins that lock an account (15 minutes) / throttle an address (5 minutes).
    login_account_failures: int = 5
    login_ip_failures: int = 20
    # Bearer token for /metrics; without one, /metrics answers loopback clients only.
    metrics_token: str | None = None


_ENV = {
    "database_url": "CAREBRIDGE_DATABASE_URL",
    "secret_key": "CAREBRIDGE_SECRET_KEY",
    "scheduler": "CAREBRIDGE_SCHEDULER",
    "site_timezone": "CAREBRIDGE_TIMEZONE",
    "holiday_country": "CAREBRIDGE_HOLIDAY_COUNTRY",
    "holiday_subdivision": "CAREBRIDGE_HOLIDAY_SUBDIVISION",
    "demo_password": "CAREBRIDGE_DEMO_PASSWORD",
    "live_workflows": "CAREBRIDGE_LIVE_WORKFLOWS",
    "session_idle_minutes": "CAREBRIDGE_SESSION_IDLE_MINUTES",
    "session_max_hours": "CAREBRIDGE_SESSION_MAX_HOURS",
    "secure_cookies": "CAREBRIDGE_SECURE_COOKIES",
    "metrics_token": "CAREBRIDGE_METRICS_TOKEN",
    "login_account_failures": "CAREBRIDGE_LOGIN_ACCOUNT_FAILURES",
    "login_ip_failures": "CAREBRIDGE_LOGIN_IP_FAILURES",
}
_INTEGERS = {
    "live_workflows",
    "session_idle_minutes",
    "session_max_hours",
    "login_account_failures",
    "login_ip_failures",
}
_BOOLEANS = {"secure_cookies"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


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
            elif name in _BOOLEANS:
                if raw.strip().lower() not in _TRUE | _FALSE:
                    raise ValueError(f"{var} must be on or off (1/0), not {raw!r}")
                values[name] = raw.strip().lower() in _TRUE
            else:
                values[name] = raw
    values.update(overrides)
    if "secret_key" not in values:
        values["secret_key"] = _stable_secret()
    return replace(Settings(), **values)
