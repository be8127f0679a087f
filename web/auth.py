"""Sessions (Flask-Login), API tokens (Bearer), CSRF (Flask-WTF), login rate limit, role gates."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, g, redirect, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from engine import accounts
from engine.accounts.models import User
from engine.errors import CareBridgeError, ErrorKind, Forbidden
from web import deps

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
csrf = CSRFProtect()
# Nothing is limited by default; the login form is (see `login_rate_limit`). In-memory counts
# are per process: behind gunicorn each worker counts on its own, which still bounds guessing.
limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")

LOGIN_LIMIT = "10 per minute"


def login_rate_limit(view: F) -> F:
    """Limit password attempts per client address to LOGIN_LIMIT (HTTP 429 beyond it).

    For the pages' login view; only POSTs (attempts) count, showing the form does not::

        @bp.route("/login", methods=["GET", "POST"])
        @login_rate_limit
        def login(): ...

    Disabled when the app's config has RATELIMIT_ENABLED=False (the test fixtures)."""
    return limiter.limit(LOGIN_LIMIT, methods=["POST"])(view)  # type: ignore[return-value]


class Principal(UserMixin):
    """Flask-Login's view of an engine User (kept detached: read-only attributes)."""

    def __init__(self, user: User, via_token: bool = False) -> None:
        self.user = user
        self.via_token = via_token

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def is_active(self) -> bool:
        return self.user.active


def _load(user_id: int) -> User | None:
    with deps.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            return None
        _ = user.roles  # load before the session closes
        session.expunge(user)
        return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    login_manager.login_message = "Please sign in to continue."
    csrf.init_app(app)
    # Flask-Limiter keeps `enabled` on the (module-wide) Limiter and defaults a new app to the
    # previous app's value: say it for every app, so an app built after a test app that
    # switched limits off still has them.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> Principal | None:
        user = _load(int(user_id))
        return Principal(user) if user is not None and user.active else None

    @login_manager.request_loader
    def load_from_token(req: Any) -> Principal | None:
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        with deps.transaction() as session:
            user = accounts.user_for_token(session, header[7:].strip(), now=deps.clock().now())
            if user is None:
                return None
            _ = user.roles
            session.expunge(user)
        return Principal(user, via_token=True)

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        if request.path.startswith("/api/"):
            raise CareBridgeError(
                "Sign in or send an API token.",
                code="unauthenticated",
                kind=ErrorKind.UNAUTHENTICATED,
            )
        return redirect(url_for("pages.login", next=request.full_path))


def current() -> User:
    """The signed-in engine User (views behind login_required only)."""
    return current_user.user


def require_roles(*roles: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current().has_role(*roles):
                raise Forbidden("Your role does not allow this.", code="role_required")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        g.user = current()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
