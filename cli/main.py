"""`carebridge` — every command of CareBridge. Each command is one transaction at the edge."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

import click

from engine import accounts, audit, definitions, instances, schema
from engine.calendar import Site
from engine.clock import SystemClock
from engine.db import make_engine, make_sessionmaker
from engine.errors import CareBridgeError
from engine.settings import Settings, load_settings
from engine.workflow.parsing import DeploymentInvalid


class Env:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine = None
        instances.configure_live_workflows(settings.live_workflows)

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def sessions(self):  # type: ignore[no-untyped-def]
        return make_sessionmaker(self.engine)

    @property
    def site(self) -> Site:
        s = self.settings
        return Site(s.site_timezone, s.holiday_country, s.holiday_subdivision)


pass_env = click.make_pass_decorator(Env)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """CareBridge: BPMN care pathways for hospital medical social work."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # SpiffWorkflow logs every task state change at INFO: far too chatty for an operator.
    logging.getLogger("spiff").setLevel(logging.WARNING)
    ctx.obj = Env(load_settings())


def _print_problems(exc: DeploymentInvalid) -> None:
    for p in exc.problems:
        where = f"{p.file}:{p.line}" if p.line else p.file
        element = f" [{p.element_id}]" if p.element_id else ""
        click.echo(f"{where}:{element} {p.message}", err=True)


def _deploy_shipped(env: Env) -> None:
    s = env.settings
    with env.sessions.begin() as session:
        results = definitions.deploy_directory(
            session, s.processes_dir, s.forms_dir, now=SystemClock().now()
        )
    for r in results:
        state = "deployed" if r.created else "unchanged"
        click.echo(f"  {r.definition.process_key} v{r.definition.version}: {state}")
        for w in r.warnings:
            click.echo(f"    warning: {w['file']}:{w['line']} [{w['element_id']}] {w['message']}")


@main.command()
@click.option("--demo", is_flag=True, help="Also seed demo users and clients.")
@pass_env
def init(env: Env, demo: bool) -> None:
    """Create or upgrade the schema, deploy processes/ and forms/, optionally seed demo data."""
    click.echo(f"[1/3] schema: upgrading {env.engine.url.render_as_string(hide_password=True)}")
    schema.upgrade(env.engine)
    click.echo("[2/3] deploying shipped diagrams")
    try:
        _deploy_shipped(env)
    except DeploymentInvalid as exc:
        _print_problems(exc)
        sys.exit(1)
    with env.sessions.begin() as session:
        accounts.ensure_roles(session)
    if demo:
        from engine import demo as demo_data

        click.echo("[3/3] seeding demo users and clients")
        with env.sessions.begin() as session:
            report = demo_data.seed(
                session,
                password=env.settings.demo_password,
                password_file=demo_data.PASSWORD_FILE,
                clock=SystemClock(),
                site=env.site,
                echo=click.echo,
            )
        click.echo(report)
    else:
        click.echo("[3/3] no demo data (use --demo)")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--forms",
    "forms_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Form directory (default: forms/).",
)
@pass_env
def deploy(env: Env, paths: tuple[Path, ...], forms_dir: Path | None) -> None:
    """Validate and deploy BPMN/DMN files (or directories of them)."""
    files: dict[str, bytes] = {}
    for path in paths:
        if path.is_dir():
            files.update(definitions.read_diagrams(path))
        else:
            files[path.name] = path.read_bytes()
    forms_dir = forms_dir or env.settings.forms_dir
    library = definitions.read_diagrams(env.settings.processes_dir)
    try:
        with env.sessions.begin() as session:
            results = definitions.deploy(
                session,
                files,
                library={**library, **files},
                forms=definitions.read_forms(forms_dir),
                instruments_dir=forms_dir / "instruments",
                now=SystemClock().now(),
            )
    except DeploymentInvalid as exc:
        _print_problems(exc)
        click.echo(f"{len(exc.problems)} problem(s); nothing was deployed.", err=True)
        sys.exit(1)
    for r in results:
        click.echo(
            f"{r.definition.process_key} v{r.definition.version}: "
            + ("deployed" if r.created else "unchanged")
        )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_env
def serve(env: Env, host: str, port: int) -> None:
    """Serve the web app, with the embedded timer scheduler unless CAREBRIDGE_SCHEDULER=off."""
    from web import create_app

    runner = None
    if env.settings.scheduler == "embedded":
        from scheduler import TimerRunner

        runner = TimerRunner(env.sessions, site=env.site, lease_s=env.settings.timer_lease_s)
        runner.start()
    app = create_app(env.settings, after_commit=runner.nudge if runner else None)
    click.echo(f"CareBridge on http://{host}:{port}/")
    from engine import demo as demo_data

    if demo_data.PASSWORD_FILE.exists() or env.settings.demo_password:
        password = env.settings.demo_password or demo_data.PASSWORD_FILE.read_text().strip()
        users = ", ".join(u[0] for u in demo_data.DEMO_USERS)
        click.echo(f"Demo logins: {users} — password: {password}")
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        if runner:
            runner.stop()


@main.command("scheduler")
@click.option("--sweep", default=15.0, show_default=True, help="Safety sweep interval, seconds.")
@pass_env
def scheduler_cmd(env: Env, sweep: float) -> None:
    """Run the timer runner alone (run several for scale-out)."""
    from scheduler import TimerRunner

    runner = TimerRunner(
        env.sessions, site=env.site, lease_s=env.settings.timer_lease_s, sweep_s=sweep
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runner.start()
    click.echo(f"scheduler {runner.owner} running; next wake-up {runner.next_wakeup()}")
    stop.wait()
    runner.stop()


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="A label for the token.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(accounts.SCOPES),
    help="What the token may do (repeatable; default: api, the user's own rights).",
)
@click.option(
    "--expires-days",
    type=click.IntRange(1, accounts.tokens.MAX_EXPIRY_DAYS),
    default=accounts.tokens.DEFAULT_EXPIRY_DAYS,
    show_default=True,
    help="Days until the token stops working.",
)
@pass_env
def token_create(
    env: Env, username: str, name: str, scopes: tuple[str, ...], expires_days: int
) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is kept)."""
    clock = SystemClock()
    with env.sessions.begin() as session:
        try:
            user = accounts.get_user(session, username)
        except Exception as exc:
            raise click.ClickException(str(exc)) from exc
        value = accounts.create_token(
            session,
            user,
            name=name,
            now=clock.now(),
            scopes=scopes or accounts.tokens.DEFAULT_SCOPES,
            expires_days=expires_days,
        )
        audit.record(
            session,
            audit.AuditTag.TOKEN_CREATED,
            actor=audit.Actor(user.id, user.username),
            at=clock.now(),
            category="security",
            details={"name": name, "scopes": sorted(scopes or accounts.tokens.DEFAULT_SCOPES)},
        )
    click.echo(value)


@token.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
@pass_env
def token_list(env: Env, username: str | None) -> None:
    """List tokens (never their secrets): id, user, scopes, expiry and status."""
    now = SystemClock().now()
    with env.sessions.begin() as session:
        for row in accounts.list_tokens(session, actor=None, username=username):
            expires = row.expires_at.isoformat() if row.expires_at else "never"
            click.echo(
                f"{row.id}\t{row.user.username}\t{row.name}\t{','.join(sorted(row.scope_set))}"
                f"\texpires {expires}\t{accounts.token_status(row, now)}"
            )


@token.command("revoke")
@click.argument("token_id", type=int)
@pass_env
def token_revoke(env: Env, token_id: int) -> None:
    """Revoke token TOKEN_ID at once."""
    now = SystemClock().now()
    with env.sessions.begin() as session:
        try:
            row = accounts.revoke_token(session, token_id=token_id, actor=None, now=now)
        except CareBridgeError as exc:
            raise click.ClickException(exc.public_message) from exc
        audit.record(
            session,
            audit.AuditTag.TOKEN_REVOKED,
            actor=audit.SYSTEM,
            at=now,
            category="security",
            details={"token_id": row.id, "owner_id": row.user_id},
        )
    click.echo(f"token {token_id} revoked")


@main.group("user")
def user_group() -> None:
    """User accounts."""


@user_group.command("unlock")
@click.argument("username")
@pass_env
def user_unlock(env: Env, username: str) -> None:
    """Lift USERNAME's sign-in lockout."""
    now = SystemClock().now()
    with env.sessions.begin() as session:
        try:
            user = accounts.unlock(session, username=username, now=now)
        except CareBridgeError as exc:
            raise click.ClickException(exc.public_message) from exc
        audit.record(
            session,
            audit.AuditTag.USER_UNLOCKED,
            actor=audit.SYSTEM,
            at=now,
            category="security",
            details={"user_id": user.id},
        )
    click.echo(f"{username} unlocked")


@user_group.command("password")
@click.argument("username")
@click.password_option(prompt="New password")
@pass_env
def user_password(env: Env, username: str, password: str) -> None:
    """Set USERNAME's password; every session of theirs ends."""
    now = SystemClock().now()
    with env.sessions.begin() as session:
        try:
            user = accounts.get_user(session, username)
            ended = accounts.change_password(session, user=user, new_password=password, now=now)
        except CareBridgeError as exc:
            raise click.ClickException(exc.public_message) from exc
        audit.record(
            session,
            audit.AuditTag.PASSWORD_CHANGED,
            actor=audit.SYSTEM,
            at=now,
            category="security",
            details={"user_id": user.id, "sessions_ended": ended},
        )
    click.echo(f"password changed; {ended} session(s) ended")


@main.command()
@pass_env
def demo(env: Env) -> None:
    """Push the demo clients through the pathway, printing each step and who holds it."""
    from engine import demo as demo_data

    with env.sessions.begin() as session:
        ok = demo_data.run_demo(session, clock=SystemClock(), site=env.site, echo=click.echo)
    if not ok:
        sys.exit(1)


@main.command("rebuild-projections")
@pass_env
def rebuild_projections(env: Env) -> None:
    """Re-derive the inbox and timer rows of every live instance from its stored state."""
    from engine.instances.services import rebuild_projections as rebuild

    with env.sessions.begin() as session:
        count = rebuild(session, clock=SystemClock(), site=env.site)
    click.echo(f"projections rebuilt for {count} live instance(s)")


@main.group("audit")
def audit_group() -> None:
    """Audit trail tools."""


@audit_group.command("verify")
@pass_env
def audit_verify(env: Env) -> None:
    """Recompute the audit hash chain; exits non-zero when a row was altered."""
    with env.sessions.begin() as session:
        report = audit.verify_chain(session)
    if report.ok:
        click.echo(f"audit chain intact: {report.checked} rows")
    else:
        click.echo(
            f"audit chain BROKEN at rows {report.broken_ids[:20]} ({report.checked} checked)",
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
