"""Sessions (Flask-Login over server-side session rows), API tokens (Bearer, with scopes),
CSRF (Flask-WTF) and role gates. Sign-in limits live in engine.accounts.throttle."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask, g, redirect, request, url_for
from flask import session as flask_session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from engine import accounts, audit
from engine.accounts.models import User
from engine.errors import CareBridgeError, ErrorKind, Forbidden
from web import deps

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
csrf = CSRFProtect()

# The Flask session key holding the server-side session id (engine.accounts.sessions).
SESSION_ID = "sid"


class Principal(UserMixin):
    """Flask-Login's view of an engine User (kept detached: read-only attributes), with how
    it was authenticated: a browser session, or a token and its scopes."""

    def __init__(
        self,
        user: User,
        via_token: bool = False,
        *,
        token_id: int | None = None,
        scopes: frozenset[str] | None = None,
    ) -> None:
        self.user = user
        self.via_token = via_token
        self.token_id = token_id
        # None for a browser session: the person's own rights, like a token's `api` scope.
        self.scopes = scopes

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def personal(self) -> bool:
        return self.credential().personal

    def credential(self) -> accounts.Credential:
        return accounts.Credential(
            user=self.user,
            token_id=self.token_id,
            scopes=self.scopes,
        )


def session_policy() -> accounts.SessionPolicy:
    settings = deps.deps().settings
    return accounts.SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )


def _detach(session: Any, user: User) -> User:
    _ = user.roles  # load before the session closes
    session.expunge(user)
    return user


def start_browser_session(user: User) -> None:
    """Sign `user` in on this browser: a fresh cookie session bound to a new server-side
    session row (the caller has checked the password)."""
    with deps.transaction() as db:
        session_id = accounts.start_session(
            db,
            user=db.get(User, user.id),  # type: ignore[arg-type]
            now=deps.clock().now(),
            policy=session_policy(),
            ip=request.remote_addr,
        )
    flask_session.clear()  # nothing carried over from before signing in
    flask_session[SESSION_ID] = session_id
    login_user(Principal(user))


def end_browser_session(user: User) -> None:
    """Sign out: the server-side session ends, so a copy of the cookie no longer works."""
    session_id = flask_session.get(SESSION_ID)
    now = deps.clock().now()
    with deps.transaction() as db:
        if isinstance(session_id, str):
            accounts.end_session(db, session_id=session_id, now=now)
        audit.record(
            db,
            audit.AuditTag.USER_LOGOUT,
            actor=audit.Actor(user.id, user.username),
            at=now,
            category="security",
        )
    logout_user()
    flask_session.clear()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    login_manager.login_message = "Please sign in to continue."
    csrf.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> Principal | None:
        session_id = flask_session.get(SESSION_ID)
        if not isinstance(session_id, str) or not user_id.isdigit():
            return None
        with deps.transaction() as db:
            user = accounts.user_for_session(
                db,
                session_id=session_id,
                user_id=int(user_id),
                now=deps.clock().now(),
                policy=session_policy(),
            )
            if user is None:
                return None
            user = _detach(db, user)
        return Principal(user)

    @login_manager.request_loader
    def load_from_token(req: Any) -> Principal | None:
        # Tokens are for the JSON API only: a page is a person's, in a browser session.
        if not req.path.startswith("/api/"):
            return None
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        with deps.transaction() as db:
            grant = accounts.grant_for_token(db, header[7:].strip(), now=deps.clock().now())
            if grant is None:
                return None
            user = _detach(db, grant.user)
        return Principal(user, via_token=True, token_id=grant.token_id, scopes=grant.scopes)

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


def check_password(username: str, password: str) -> accounts.SignIn:
    """Check credentials within the sign-in limits (engine.accounts.throttle): failures count
    per account (lockout) and per client address (throttle). On OK the result's user is
    detached with its roles loaded. Every attempt is audited, for the login page and the
    in-place sign-in alike."""
    now = deps.clock().now()
    with deps.transaction() as db:
        if username and password:
            settings = deps.deps().settings
            result = accounts.sign_in(
                db,
                username=username,
                password=password,
                ip=request.remote_addr or "",
                now=now,
                limits=accounts.SignInLimits(
                    account_failures=settings.login_account_failures,
                    ip_failures=settings.login_ip_failures,
                ),
            )
        else:  # an empty form guesses nothing: refused, not counted
            result = accounts.SignIn(accounts.Outcome.BAD_CREDENTIALS)
        user = result.user if result.outcome is accounts.Outcome.OK else None
        if user is None:
            audit.record(
                db,
                audit.AuditTag.USER_LOGIN_FAILED,
                actor=audit.SYSTEM,
                at=now,
                category="security",
                details={"username": username, "outcome": str(result.outcome)},
            )
        else:
            audit.record(
                db,
                audit.AuditTag.USER_LOGIN,
                actor=audit.Actor(user.id, user.username),
                at=now,
                category="security",
            )
            _ = user.roles  # loaded now: the Principal outlives this session
            db.flush()  # the reset failure count (and any rehash) before the user is detached
            db.expunge(user)
    return result
