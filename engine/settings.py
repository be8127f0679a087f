"""Settings are read from CAREBRIDGE_* once, at the edge, and passed down."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any

from engine.calendar import DEFAULT_BUSINESS_DAY_END, Site, load_closed_days, parse_day_end

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'var' / 'carebridge.sqlite3'}"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    scheduler: str = "embedded"  # embedded | off
    site_timezone: str = "America/New_York"
    holiday_country: str = "US"
    holiday_subdivision: str | None = None
    # End of the site's business day (site time): business-day deadlines fall due then.
    business_day_end: time = DEFAULT_BUSINESS_DAY_END
    # The site calendar file (CAREBRIDGE_CLOSED_DAYS) and its lines, read once at start-up.
    closed_days_file: Path | None = None
    closed_days: tuple[tuple[date, bool], ...] = ()
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
    # How long a break-glass grant lets its user read a case outside their care team.
    break_glass_minutes: int = 60
    # The audit chain's HMAC key: CAREBRIDGE_AUDIT_KEY, else var/audit-key (made 0600 on first
    # use, i.e. by `carebridge init`). Keep it off the database host and back it up: without
    # it the chain cannot be verified. Anchors of the chain's head are appended to
    # `audit_anchor_file` by `carebridge audit anchor`.
    audit_key: str | None = None
    audit_anchor_file: Path = ROOT / "var" / "audit-anchors.jsonl"
    # Rewritten by `carebridge scheduler` after each pass, read by `carebridge scheduler --check`.
    scheduler_heartbeat: Path = ROOT / "var" / "scheduler-heartbeat.json"
    testing: bool = False
    # Alerts (engine.notifications): e-mail over SMTP and a signed paging webhook.
    smtp_url: str | None = None  # smtp://host:port (smtps:// for TLS, user:password@ optional)
    mail_from: str = "carebridge@localhost"
    paging_webhook_url: str | None = None
    paging_webhook_secret: str | None = None
    public_url: str = "http://127.0.0.1:5000"  # links in e-mails
    notify_max_attempts: int = 10
    # The HL7 MLLP listener inside `carebridge scheduler` (None: not started there).
    hl7_port: int | None = None
    hl7_host: str = "127.0.0.1"
    # Fernet key sealing task drafts (engine.drafts); unset: derived from secret_key by HKDF.
    draft_key: str | None = None

    def __post_init__(self) -> None:
        # However the settings are built, a named calendar file is read (and checked) now:
        # an invalid line stops start-up (CalendarFileError names the file and the line).
        if self.closed_days_file is not None and not self.closed_days:
            object.__setattr__(self, "closed_days", load_closed_days(self.closed_days_file))

    @property
    def site(self) -> Site:
        return Site(
            self.site_timezone,
            self.holiday_country,
            self.holiday_subdivision,
            overrides=self.closed_days,
            business_day_end=self.business_day_end,
        )

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
    "break_glass_minutes": "CAREBRIDGE_BREAK_GLASS_MINUTES",
    "smtp_url": "CAREBRIDGE_SMTP_URL",
    "mail_from": "CAREBRIDGE_MAIL_FROM",
    "paging_webhook_url": "CAREBRIDGE_PAGING_WEBHOOK_URL",
    "paging_webhook_secret": "CAREBRIDGE_PAGING_WEBHOOK_SECRET",
    "public_url": "CAREBRIDGE_PUBLIC_URL",
    "notify_max_attempts": "CAREBRIDGE_NOTIFY_MAX_ATTEMPTS",
    "draft_key": "CAREBRIDGE_DRAFT_KEY",
    "business_day_end": "CAREBRIDGE_BUSINESS_DAY_END",
    "closed_days_file": "CAREBRIDGE_CLOSED_DAYS",
    "hl7_port": "CAREBRIDGE_HL7_PORT",
    "hl7_host": "CAREBRIDGE_HL7_HOST",
    "audit_key": "CAREBRIDGE_AUDIT_KEY",
    "audit_anchor_file": "CAREBRIDGE_AUDIT_ANCHOR_FILE",
    "script_workers": "CAREBRIDGE_SCRIPT_WORKERS",
    "script_memory_mb": "CAREBRIDGE_SCRIPT_MEMORY_MB",
    "scheduler_heartbeat": "CAREBRIDGE_SCHEDULER_HEARTBEAT",
    "session_idle_minutes": "CAREBRIDGE_SESSION_IDLE_MINUTES",
    "session_max_hours": "CAREBRIDGE_SESSION_MAX_HOURS",
    "secure_cookies": "CAREBRIDGE_SECURE_COOKIES",
    "metrics_token": "CAREBRIDGE_METRICS_TOKEN",
    "login_account_failures": "CAREBRIDGE_LOGIN_ACCOUNT_FAILURES",
    "login_ip_failures": "CAREBRIDGE_LOGIN_IP_FAILURES",
}
_PATHS = {"closed_days_file", "scheduler_heartbeat"}
_INTEGERS = {
    "live_workflows",
    "break_glass_minutes",
    "notify_max_attempts",
    "hl7_port",
    "script_workers",
    "script_memory_mb",
    "session_idle_minutes",
    "session_max_hours",
    "login_account_failures",
    "login_ip_failures",
}
_BOOLEANS = {"secure_cookies"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


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
            elif name == "business_day_end":
                values[name] = parse_day_end(raw)
            elif name in _PATHS:
                values[name] = Path(raw)
            elif name in _BOOLEANS:
                if raw.strip().lower() not in _TRUE | _FALSE:
                    raise ValueError(f"{var} must be on or off (1/0), not {raw!r}")
                values[name] = raw.strip().lower() in _TRUE
            else:
                values[name] = raw
    values.update(overrides)
    if isinstance(values.get("closed_days_file"), str):
        values["closed_days_file"] = Path(values["closed_days_file"])
    # An unreadable or invalid calendar stops start-up (CalendarFileError names file and line):
    # deadlines counted on a calendar the site did not mean are worse than not starting.
    # Read first, before anything else is written (the generated secret key, say).
    if values.get("closed_days_file") is not None and not values.get("closed_days"):
        values["closed_days"] = load_closed_days(values["closed_days_file"])
    if "secret_key" not in values:
        values["secret_key"] = _stable_secret()
    if "audit_key" not in values:
        values["audit_key"] = _audit_key()
    if "audit_anchor_file" in values:
        values["audit_anchor_file"] = Path(values["audit_anchor_file"])
    return replace(Settings(), **values)
