"""What every page shares: times in the reader's zone, safe redirects, template helpers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from web import deps
from web.pages import bp

ROLE_LABELS = {
    "social_worker": "Social worker",
    "nurse": "Nurse",
    "physician": "Physician",
    "case_manager": "Case manager",
    "supervisor": "Supervisor",
    "admin": "Administrator",
}
PRIORITY_LABELS = {"routine": "Routine", "urgent": "Urgent", "asap": "ASAP", "stat": "STAT"}
BPMN_JS = Path("vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")


def reader_zone() -> ZoneInfo:
    """The signed-in user's zone; the site's zone for everyone else."""
    name = None
    user = getattr(g, "user", None)
    if user is None and current_user and current_user.is_authenticated:
        user = current_user.user
    if user is not None:
        name = user.timezone
    try:
        return ZoneInfo(name or deps.site().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(value: datetime) -> datetime:
    return value.astimezone(reader_zone())


@bp.app_template_filter("localtime")
def localtime(value: datetime | None, style: str = "datetime") -> str:
    """`Mon 2 Mar 2026, 09:00 EST` in the reader's zone (style: datetime|date|time)."""
    if value is None:
        return ""
    local = _local(value)
    day = f"{local:%a} {local.day} {local:%b %Y}"
    if style == "date":
        return day
    clock = f"{local:%H:%M} {local.tzname()}"
    if style == "time":
        return clock
    return f"{day}, {clock}"


@bp.app_template_filter("isotime")
def isotime(value: datetime | None) -> str:
    return value.astimezone(reader_zone()).isoformat() if value is not None else ""


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        rest = minutes % 60
        return f"{hours} h {rest} min" if hours < 3 and rest else f"{hours} h"
    return f"{hours // 24} days"


@bp.app_template_filter("relative")
def relative(value: datetime | None) -> str:
    """`in 3 h`, `2 days ago`, measured against the app's clock."""
    if value is None:
        return ""
    delta = (value - deps.clock().now()).total_seconds()
    if abs(delta) < 60:
        return "now"
    return f"in {_span(delta)}" if delta > 0 else f"{_span(-delta)} ago"


@bp.app_template_filter("overdue")
def overdue(value: datetime | None) -> bool:
    return value is not None and value < deps.clock().now()


@bp.app_template_filter("age")
def age(born: date | None) -> str:
    if born is None:
        return ""
    today = deps.clock().now().astimezone(reader_zone()).date()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return f"{years}"


@bp.app_template_filter("role_label")
def role_label(key: str | None) -> str:
    return ROLE_LABELS.get(key or "", (key or "").replace("_", " ").capitalize())


@bp.app_template_filter("priority_label")
def priority_label(key: str | None) -> str:
    return PRIORITY_LABELS.get(key or "", key or "")


@bp.app_context_processor
def page_globals() -> dict[str, Any]:
    user = current_user.user if current_user and current_user.is_authenticated else None
    static = Path(current_app.static_folder or "")
    return {
        "me": user,
        "is_admin": bool(user and user.has_role("admin")),
        "is_manager": bool(user and user.has_role("supervisor", "admin")),
        "can_open_cases": bool(user and user.has_role(*CLINICAL_ROLES)),
        "bpmn_js": (static / BPMN_JS).is_file(),
        "endpoint": request.endpoint or "",
    }


CLINICAL_ROLES = ("social_worker", "nurse", "physician", "case_manager", "supervisor")


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host (open redirect), never `//host`."""
    if not target:
        return default
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def back(default_endpoint: str = "pages.inbox", **values: Any) -> Response:
    """Redirect to the form's `next` field (a local path) or to the default page."""
    return redirect(safe_next(request.form.get("next"), url_for(default_endpoint, **values)))
