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
    # Sandbox worker processes for diagram code (engine.workflow.sandbox_pool), and the address
    # space each may use: a script past it fails with "exceeded its memory limit".
    script_workers: int = 4
    script_memory_mb: int = 512
    timer_lease_s: int = 60
    demo_password: str | None = None
    # Live workflows a process keeps between commands (engine.instances.live); 0 turns it off.
    live_workflows: int = 256
    # The audit chain's HMAC key: CAREBRIDGE_AUDIT_KEY, else var/audit-key (made 0600 on first
    # use, i.e. by `carebridge init`). Keep it off the database host and back it up: without
    # it the chain cannot be verified. Anchors of the chain's head are appended to
    # `audit_anchor_file` by `carebridge audit anchor`.
    audit_key: str | None = None
    audit_anchor_file: Path = ROOT / "var" / "audit-anchors.jsonl"
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
    "audit_key": "CAREBRIDGE_AUDIT_KEY",
    "audit_anchor_file": "CAREBRIDGE_AUDIT_ANCHOR_FILE",
    "script_workers": "CAREBRIDGE_SCRIPT_WORKERS",
    "script_memory_mb": "CAREBRIDGE_SCRIPT_MEMORY_MB",
}
_INTEGERS = {"live_workflows", "script_workers", "script_memory_mb"}


SECRET_FILE = ROOT / "var" / "secret-key"
AUDIT_KEY_FILE = ROOT / "var" / "audit-key"


def _stable_secret(path: Path = SECRET_FILE) -> str:
    """Without CAREBRIDGE_SECRET_KEY, one key is generated once and kept in var/, so sessions
    survive restarts and every worker process of one install signs cookies alike."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
    except OSError:
        return secrets.token_hex(32)


def _audit_key() -> str:
    """Like the secret key, but never a throwaway: a chain signed with a key nobody kept could
    never be verified. Two processes starting at once read the one that won the race."""
    try:
        return _stable_secret_strict(AUDIT_KEY_FILE)
    except FileExistsError:
        return AUDIT_KEY_FILE.read_text().strip()


def _stable_secret_strict(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


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
            else:
                values[name] = raw
    values.update(overrides)
    if "secret_key" not in values:
        values["secret_key"] = _stable_secret()
    if "audit_key" not in values:
        values["audit_key"] = _audit_key()
    if "audit_anchor_file" in values:
        values["audit_anchor_file"] = Path(values["audit_anchor_file"])
    return replace(Settings(), **values)
