"""`carebridge` — every command of CareBridge. Each command is one transaction at the edge."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cli import server
from cli.rota import import_csv
from engine import accounts, alarms, audit, definitions, instances, notifications, schema
from engine import demo as demo_data
from engine.calendar import Site
from engine.clock import SystemClock
from engine.db import make_engine, make_sessionmaker
from engine.errors import CareBridgeError
from engine.settings import Settings, load_settings
from engine.uow import UnitOfWork
from engine.wiring import wire
from engine.workflow.parsing import DeploymentInvalid
from scheduler import AlertJobs, EscalationRunner, NotificationSender, TimerRunner
from scheduler.channels import from_settings
from web import create_app


class Env:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        instances.configure_live_workflows(settings.live_workflows)
        notifications.configure_from(settings)
        if settings.audit_key:
            audit.configure_key(settings.audit_key)
        instances.configure_script_sandbox(
            workers=settings.script_workers, memory_mb=settings.script_memory_mb
        )

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One CLI command = one unit of work (engine.uow)."""
        with UnitOfWork(self.sessions) as uow:
            yield uow.session

    @property
    def site(self) -> Site:
        return self.settings.site


pass_env = click.make_pass_decorator(Env)


def _alert_jobs(env: Env) -> AlertJobs:
    """The escalation ladder and the outbox sender, run by every scheduler process."""
    sender = NotificationSender(
        env.sessions, from_settings(env.settings), max_attempts=env.settings.notify_max_attempts
    )
    return AlertJobs(EscalationRunner(env.sessions), sender)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """CareBridge: BPMN care pathways for hospital medical social work."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # SpiffWorkflow logs every task state change at INFO: far too chatty for an operator.
    logging.getLogger("spiff").setLevel(logging.WARNING)
    wire()  # feature modules subscribe to the engine's events before any command runs
    try:
        settings = load_settings()
    except ValueError as exc:  # a bad setting or site calendar line: say which, then stop
        raise click.ClickException(f"configuration: {exc}") from None
    ctx.obj = Env(settings)


def _print_problems(exc: DeploymentInvalid) -> None:
    for p in exc.problems:
        where = f"{p.file}:{p.line}" if p.line else p.file
        element = f" [{p.element_id}]" if p.element_id else ""
        click.echo(f"{where}:{element} {p.message}", err=True)


def _deploy_shipped(env: Env) -> None:
    s = env.settings
    with env.transaction() as session:
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
    with env.transaction() as session:
        accounts.ensure_roles(session)
    if demo:
        click.echo("[3/3] seeding demo users and clients")
        with env.transaction() as session:
            report = demo_data.seed(
                session,
                password=env.settings.demo_password,
                password_file=demo_data.PASSWORD_FILE,
                clock=SystemClock(),
                site=env.site,
                echo=click.echo,
            )
        click.echo(report)
        from cli.directory import SAMPLE, echo_report, run_import

        click.echo("loading the sample community resource directory")
        echo_report(run_import(env, SAMPLE))
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
        with env.transaction() as session:
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
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Gunicorn worker processes.",
)
@click.option("--dev", is_flag=True, help="Werkzeug's development server, one process.")
@pass_env
def serve(env: Env, host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the web app (gunicorn), with the embedded timer scheduler in one process of its
    own unless CAREBRIDGE_SCHEDULER=off."""
    embedded = env.settings.scheduler == "embedded"
    if dev:
        _serve_dev(env, host, port, embedded=embedded)
        return
    app = create_app(env.settings)
    click.echo(f"CareBridge on http://{host}:{port}/ ({workers} workers)")
    _echo_demo_logins(env)
    server.run(app, host=host, port=port, workers=workers, embedded_scheduler=embedded)


def _serve_dev(env: Env, host: str, port: int, *, embedded: bool) -> None:
    """Werkzeug in one process, the scheduler in a thread of it (nudged after each command)."""
    runner = None
    alerts = None
    if embedded:
        runner = TimerRunner(env.sessions, site=env.site, lease_s=env.settings.timer_lease_s)
        runner.start()
        alerts = _alert_jobs(env)
        alerts.start()
    app = create_app(env.settings, after_commit=runner.nudge if runner else None)
    click.echo(f"CareBridge (development server) on http://{host}:{port}/")
    _echo_demo_logins(env)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        if runner:
            runner.stop()
        if alerts:
            alerts.stop()


def _echo_demo_logins(env: Env) -> None:
    if demo_data.PASSWORD_FILE.exists() or env.settings.demo_password:
        password = env.settings.demo_password or demo_data.PASSWORD_FILE.read_text().strip()
        users = ", ".join(u[0] for u in demo_data.DEMO_USERS)
        click.echo(f"Demo logins: {users} — password: {password}")


@main.command("scheduler")
@click.option("--sweep", default=15.0, show_default=True, help="Safety sweep interval, seconds.")
@click.option(
    "--check",
    is_flag=True,
    help="Health probe: exit 0 when a running scheduler's last pass is recent, else 1.",
)
@pass_env
def scheduler_cmd(env: Env, sweep: float, check: bool) -> None:
    """Run the timer runner alone (run several for scale-out)."""
    if check:
        _exit_with(_scheduler_problem(env), "scheduler: healthy")
    runner = TimerRunner(
        env.sessions,
        site=env.site,
        lease_s=env.settings.timer_lease_s,
        sweep_s=sweep,
        heartbeat=env.settings.scheduler_heartbeat,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    alerts = _alert_jobs(env)
    runner.start()
    alerts.start()
    listener = None
    if env.settings.hl7_port is not None:
        from cli.hl7 import ListenerThread

        listener = ListenerThread(
            env.sessions, host=env.settings.hl7_host, port=env.settings.hl7_port, site=env.site
        )
        click.echo(f"HL7 MLLP listener on port {listener.start()}")
    click.echo(f"scheduler {runner.owner} running; next wake-up {runner.next_wakeup()}")
    stop.wait()
    if listener is not None:
        listener.stop()
    alerts.stop()
    runner.stop()


def _scheduler_problem(env: Env) -> str | None:
    from scheduler import heartbeat

    return heartbeat.problem(env.settings.scheduler_heartbeat, now=SystemClock().now())


def _exit_with(problem: str | None, healthy: str) -> None:
    if problem is not None:
        click.echo(f"unhealthy: {problem}", err=True)
        sys.exit(1)
    click.echo(healthy)
    sys.exit(0)


@main.command()
@click.option(
    "--cmdline",
    type=click.Path(path_type=Path),
    default="/proc/1/cmdline",
    show_default=True,
    help="Where to read the container's main command (NUL-separated argv).",
)
@pass_env
def healthcheck(env: Env, cmdline: Path) -> None:
    """Container health probe suited to the container's main command: the web app's /healthz
    (gunicorn, serve), the scheduler's heartbeat, nothing for one-off commands (init)."""
    from cli import probes

    target = probes.target_of(probes.main_command(cmdline))
    if target.role == "scheduler":
        _exit_with(_scheduler_problem(env), "scheduler: healthy")
    if target.role == "web":
        url = f"http://127.0.0.1:{target.port}/healthz"
        _exit_with(probes.http_problem(url), f"web: {url} ok")
    click.echo("a one-off command: nothing to probe")


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
    with env.transaction() as session:
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
    with env.transaction() as session:
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
    with env.transaction() as session:
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
    with env.transaction() as session:
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
    with env.transaction() as session:
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
    with env.transaction() as session:
        ok = demo_data.run_demo(session, clock=SystemClock(), site=env.site, echo=click.echo)
    if not ok:
        sys.exit(1)


@main.command("rebuild-projections")
@pass_env
def rebuild_projections(env: Env) -> None:
    """Re-derive the inbox and timer rows of every live instance from its stored state."""
    with env.transaction() as session:
        count = instances.rebuild_projections(session, clock=SystemClock(), site=env.site)
        resumed = alarms.resume(session, now=SystemClock().now())
    click.echo(f"projections rebuilt for {count} live instance(s)")
    click.echo(f"escalation resumed for {resumed} unacknowledged stat task(s)")


@main.group("oncall")
def oncall_group() -> None:
    """The on-call rota."""


@oncall_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_env
def oncall_import(env: Env, file: Path) -> None:
    """Import shifts from a CSV with the header role,username,starts_at,ends_at (times in
    ISO 8601 with their offset). All or nothing: any bad line and nothing is imported."""
    import_csv(env, file)


@main.group("directory")
def directory_group() -> None:
    """The community resource directory (Open Referral HSDS 3.0)."""


@directory_group.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@pass_env
def directory_import(env: Env, path: Path) -> None:
    """Import an HSDS 3.0 package: a folder of CSV files (organizations.csv, services.csv, …)
    or a JSON file. Re-importing updates rows by HSDS id; refused rows are listed with file,
    row and reason; the usable rows are imported all the same (exit status 0)."""
    from cli.directory import echo_report, run_import

    echo_report(run_import(env, path))


@main.group("audit")
def audit_group() -> None:
    """Audit trail tools."""


@audit_group.command("verify")
@click.option(
    "--anchor",
    "anchor_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="an anchor exported by `carebridge audit anchor --out` to check against (repeatable)",
)
@pass_env
def audit_verify(env: Env, anchor_files: tuple[Path, ...]) -> None:
    """Recompute the keyed audit chain and check its signed head and anchors (the newest in
    the anchor file, and any given); exits non-zero, saying what is wrong, otherwise."""
    anchors = [(str(path), a) for path in anchor_files for a in audit.anchors.read_anchors(path)]
    default = audit.latest_anchor(env.settings.audit_anchor_file)
    if default is not None:
        anchors.insert(0, (str(env.settings.audit_anchor_file), default))
    with env.transaction() as session:
        report = audit.verify_chain(session)
        problems = list(report.problems)
        for source, anchor in anchors:
            problems += [f"{p} ({source})" for p in audit.check_anchor(session, anchor)]
    if not report.broken_ids and not problems:
        click.echo(
            f"audit chain intact: {report.checked} rows, signed head matches, "
            f"{len(anchors)} anchor(s) hold"
        )
        return
    click.echo(f"audit chain BROKEN ({report.checked} rows checked)", err=True)
    if report.broken_ids:
        click.echo(
            f"  rows whose HMAC or link does not match (changed, inserted, re-hashed without "
            f"the key, or after a deleted row): {report.broken_ids[:20]}",
            err=True,
        )
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@audit_group.command("anchor")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also write the anchor to this file (keep it where the database cannot reach)",
)
@pass_env
def audit_anchor(env: Env, out: Path | None) -> None:
    """Print a signed anchor of the chain's head (row count, last id, last hash, time) and add
    it to the anchor file that `audit verify` reads; refuses when the chain is broken."""
    with env.transaction() as session:
        report = audit.verify_chain(session)
        if not report.ok:
            click.echo(
                "refusing to anchor: `carebridge audit verify` finds the chain broken", err=True
            )
            sys.exit(1)
        anchor = audit.make_anchor(session, at=SystemClock().now())
    audit.append_anchor(env.settings.audit_anchor_file, anchor)
    text = json.dumps(anchor, sort_keys=True, indent=2)
    if out is not None:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    click.echo(text)


@audit_group.command("rekey")
@pass_env
def audit_rekey(env: Env) -> None:
    """Once, after upgrading: re-sign with the audit key a trail written before it existed.
    Refuses unless every old row still verifies as the old chain."""
    try:
        with env.transaction() as session:
            count = audit.rekey_legacy_chain(session)
    except audit.LegacyChainError as exc:
        click.echo(f"refusing to re-key: {exc}", err=True)
        sys.exit(1)
    click.echo(f"audit chain re-keyed: {count} rows; run `carebridge audit anchor` now")


def _register_integrations() -> None:
    from cli.hl7 import register

    register(main, pass_env)


_register_integrations()


if __name__ == "__main__":
    main()
