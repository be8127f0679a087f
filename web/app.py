"""The app factory. Side-effect free: builds settings, sessions, blueprints and error
handlers; never migrates, queries, sleeps or starts the scheduler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy.orm.session import Session, sessionmaker

from engine import audit, instances, notifications
from engine.clock import Clock, SystemClock
from engine.db import make_sessionmaker
from engine.settings import Settings, load_settings
from engine.wiring import wire
from web import auth, errors, headers
from web.converters import RowIdConverter
from web.deps import Deps
from web.json_limits import LimitedJSONProvider


def create_app(
    settings: Settings | None = None,
    *,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    after_commit: Callable[[], None] | None = None,
    config: dict[str, Any] | None = None,
) -> Flask:
    settings = settings or load_settings()
    wire()  # feature modules subscribe to the engine's events (idempotent)
    instances.configure_live_workflows(settings.live_workflows)
    notifications.configure_from(settings)
    if settings.audit_key:
        audit.configure_key(settings.audit_key)
    instances.configure_script_sandbox(
        workers=settings.script_workers, memory_mb=settings.script_memory_mb
    )
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.json = LimitedJSONProvider(app)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        # The server-side session row decides idle and absolute expiry; the cookie never
        # outlives the absolute limit either.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=settings.testing,
    )
    app.config.update(config or {})
    app.extensions["carebridge"] = Deps(
        settings=settings,
        sessions=sessions or make_sessionmaker(settings.database_url),
        clock=clock or SystemClock(),
        site=settings.site,
        after_commit=after_commit,
    )
    auth.init_app(app)
    errors.init_app(app)
    headers.init_app(app, https=settings.secure_cookies)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from web.api import bp as api_bp
    from web.health import bp as health_bp
    from web.pages import register as register_pages

    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)  # /healthz and /metrics at the root
    from web.fhir import bp as fhir_bp

    app.register_blueprint(fhir_bp)  # /fhir/R4: integration tokens only
    register_pages(app)
