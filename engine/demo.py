"""Demo data: users of every role and clients pushed along the pathway to known steps.

Used by `carebridge init --demo` and `carebridge demo`, and (its sample form data) by tests.
Idempotent: a client already present is reported at its current step, not created again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import accounts, cases, inbox, instances, screenings, timers
from engine.accounts.models import User
from engine.calendar import DEFAULT_SITE, Site, add_business_days, is_business_day
from engine.cases import team as care_team
from engine.cases.models import Client
from engine.clock import Clock, FrozenClock
from engine.demo_forms import *  # noqa: F403  (sample data is part of the demo's API)
from engine.demo_forms import (
    AHC_FOOD_HOUSING,
    AHC_UNSAFE,
    CSSRS_HIGH,
    CSSRS_MODERATE,
    HOUSING_REFERRAL,
    PHQ9_ITEM9,
    SAFETY_REFERRAL,
    STEP_DATA,
    TCM_UNREACHABLE,
    assessment,
    care_plan,
)
from engine.settings import ROOT

PASSWORD_FILE = ROOT / "var" / "demo-password.txt"
STEP_GAP = timedelta(minutes=20)

# Demo users get addresses on a reserved domain (RFC 2606): alerts to them reach a local
# mail catcher (CAREBRIDGE_SMTP_URL) and nobody else.
DEMO_MAIL_DOMAIN = "carebridge.example"

DEMO_USERS = (
    ("alex", "Alex Rivera", ("social_worker",), True),
    ("sam", "Sam Okafor", ("social_worker",), False),
    ("kim", "Kim Nguyen", ("nurse",), False),
    ("patel", "Dr. Priya Patel", ("physician",), False),
    ("jordan", "Jordan Blake", ("case_manager",), False),
    ("morgan", "Morgan Lee", ("supervisor",), False),
    ("admin", "Site Administrator", ("admin",), False),
)


DEMO_TEAM = (("kim", "nurse"), ("jordan", "case_manager"))
# A social-work intern whose notes morgan co-signs. Seeded after the demo run, so the demo's
# own work never falls to them.
DEMO_INTERN = ("riley", "Riley Chen", "morgan")


@dataclass(frozen=True)
class DemoClient:
    given_name: str
    family_name: str
    birth_date: str
    mrn: str
    reason: str
    steps: tuple[tuple[str, dict[str, Any] | None], ...]  # (bpmn_id, data or None for the default)
    expect: frozenset[str]  # open task ids (or "timer:<id>") the client should end at
    days_ago: float = 0.0  # run the scripted steps this long ago (makes work overdue)
    # Or choose the start from the current time and the site calendar (e.g. a discharge
    # whose 2-business-day window holds a public holiday).
    start_at: Callable[[datetime, Site], datetime] | None = None


DEMO_CLIENTS = (
    DemoClient(
        "Maria",
        "Lopez",
        "1951-07-14",
        "DEMO-0001",
        "Recurrent falls; lives alone; food insecurity.",
        (
            ("intake", None),
            ("assessment", assessment(ahc=AHC_FOOD_HOUSING)),
            ("care_plan", care_plan(("food", "housing"))),
            # One referral instance per need, opened in the plan's order: food, then housing.
            ("send_referral", None),
            ("send_referral", HOUSING_REFERRAL),
        ),
        frozenset({"timer:followup_wait"}),
    ),
    DemoClient(
        "James",
        "Carter",
        "1979-02-03",
        "DEMO-0002",
        "Overdose admission; low mood.",
        (
            ("intake", None),
            (
                "assessment",
                assessment(
                    phq2={"q1": 2, "q2": 3},
                    cssrs=CSSRS_HIGH,
                    phq9={
                        "q1": 2,
                        "q2": 3,
                        "q3": 2,
                        "q4": 2,
                        "q5": 1,
                        "q6": 2,
                        "q7": 1,
                        "q8": 0,
                        "q9": 2,
                    },
                ),
            ),
        ),
        frozenset({"crisis_response", "safety_precautions", "physician_review"}),
    ),
    DemoClient(
        "Aisha",
        "Khan",
        "1990-11-22",
        "DEMO-0003",
        "New diagnosis; caregiver strain.",
        (("intake", None),),
        frozenset({"assessment", "review_overdue_assessment"}),
        days_ago=2,
    ),
    DemoClient(
        "Robert",
        "Chen",
        "1946-03-09",
        "DEMO-0004",
        "Discharged home after heart failure admission; lives with his wife.",
        (
            ("intake", None),
            (
                "message:discharge",
                {"disposition": "home", "behavioral_health": False, "unit": "4 West"},
            ),
        ),
        # Discharged before the bedside assessment: it continues by phone, the worker is told.
        frozenset({"tcm_first_attempt", "phone_assessment", "discharge_notice"}),
        start_at=lambda now, site: holiday_window_start(now, site),
    ),
    DemoClient(
        "Grace",
        "Okoye",
        "1962-08-30",
        "DEMO-0005",
        "Discharged after pneumonia; phone often switched off.",
        (
            ("intake", None),
            (
                "message:discharge",
                {"disposition": "home", "behavioral_health": True, "unit": "5 East"},
            ),
            ("tcm_first_attempt", TCM_UNREACHABLE),
            ("tcm_retry", {**TCM_UNREACHABLE, "record_unable_to_reach": False}),
        ),
        frozenset({"tcm_retry", "fuh_7_check", "fuh_30_check"}),
    ),
    DemoClient(
        "Nadia",
        "Haddad",
        "1985-12-01",
        "DEMO-0006",
        "Injuries reported as a fall; partner answers for her.",
        (
            ("intake", None),
            ("assessment", assessment(ahc=AHC_UNSAFE)),
            ("care_plan", care_plan(("safety",))),
            ("send_referral", SAFETY_REFERRAL),
        ),
        # The safety screen made her do-not-contact: one urgent "Plan safe contact" task.
        frozenset({"timer:followup_wait", "timer:answer_overdue", "plan_safe_contact"}),
    ),
    DemoClient(
        "Lena",
        "Novak",
        "1998-05-14",
        "DEMO-0007",
        "Admitted after a fall; tearful on the ward.",
        (("intake", None), ("screen:phq9", PHQ9_ITEM9)),
        # Item 9 alone: a stat C-SSRS for the on-call worker, no crisis precautions yet.
        frozenset({"cssrs_screen", "assessment"}),
    ),
    DemoClient(
        "Tomas",
        "Reyes",
        "1971-09-02",
        "DEMO-0008",
        "Chronic pain; recent job loss.",
        (("intake", None), ("assessment", assessment(cssrs=CSSRS_MODERATE))),
        frozenset({"bh_consult", "moderate_safety_plan", "shift_review"}),
    ),
)


def _password(password: str | None, password_file: Path | None) -> tuple[str, str]:
    if password:
        return password, "from CAREBRIDGE_DEMO_PASSWORD"
    if password_file is not None and password_file.exists():
        return password_file.read_text().strip(), f"kept in {password_file}"
    value = secrets.token_urlsafe(9)
    if password_file is not None:
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(value + "\n")
        password_file.chmod(0o600)
    return value, f"generated, kept in {password_file}"


def seed_users(session: Session, *, password: str) -> list[User]:
    users = []
    for username, name, roles, on_call in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = accounts.create_user(
                session,
                username=username,
                display_name=name,
                roles=roles,
                password=password,
                on_call=on_call,
                email=f"{username}@{DEMO_MAIL_DOMAIN}",
            )
        else:
            accounts.set_password(user, password)
            user.email = user.email or f"{username}@{DEMO_MAIL_DOMAIN}"
        users.append(user)
    return users


def seed_intern(session: Session, *, password: str) -> User:
    username, name, supervisor = DEMO_INTERN
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = accounts.create_user(
            session,
            username=username,
            display_name=name,
            roles=("social_worker",),
            password=password,
            email=f"{username}@{DEMO_MAIL_DOMAIN}",
        )
    else:
        accounts.set_password(user, password)
    user.is_intern = True
    user.supervisor_id = session.scalar(select(User.id).where(User.username == supervisor))
    return user


def _holder(session: Session, task: inbox.HumanTask) -> str:
    if task.assignee_id:
        user = session.get(User, task.assignee_id)
        return user.username if user else "?"
    return f"{task.role} queue"


def _open_steps(session: Session, case_id: int) -> set[str]:
    steps = {t.bpmn_id for t in inbox.tasks_for_case(session, case_id) if t.status == "open"}
    for instance in cases.instances_for_case(session, case_id):
        view = instances.describe_instance(session, instance.id)
        steps |= {f"timer:{w}" for w in view.waiting}
    return steps


def run_demo(
    session: Session,
    *,
    clock: Clock,
    site: Site = DEFAULT_SITE,
    echo: Callable[[str], None] = print,
) -> bool:
    """Push each demo client to its expected step; report where every client stands."""
    users = {u.username: u for u in session.scalars(select(User))}
    worker = users.get("alex")
    if worker is None:
        raise RuntimeError("demo users are missing: run `carebridge init --demo` first")
    all_ok = True
    for demo in DEMO_CLIENTS:
        client = session.scalar(select(Client).where(Client.mrn == demo.mrn))
        name = f"{demo.given_name} {demo.family_name}"
        if client is None:
            # Steps are STEP_GAP apart and must not end in the future.
            start = (
                demo.start_at(clock.now(), site)
                if demo.start_at
                else clock.now() - timedelta(days=demo.days_ago) - STEP_GAP * (len(demo.steps) - 1)
            )
            when = FrozenClock(start)
            case, started = cases.open_case(
                session,
                client={
                    "given_name": demo.given_name,
                    "family_name": demo.family_name,
                    "birth_date": demo.birth_date,
                    "mrn": demo.mrn,
                },
                reason=demo.reason,
                actor=worker,
                clock=when,
                site=site,
            )
            echo(f"{name}: case {case.id} opened by {worker.username}")
            # The ward nurse and the case manager join every demo team; the physician stays
            # off, so the demo shows break-glass too.
            for username, case_role in DEMO_TEAM:
                if username in users:
                    care_team.add_to_team(
                        session,
                        case=case,
                        actor=worker,
                        clock=when,
                        case_role=case_role,
                        username=username,
                    )
            for step, data in demo.steps:
                _run_step(session, case, step, data, users=users, clock=when, site=site, echo=echo)
                when.advance(STEP_GAP)
            case_id: int | None = case.id
            _fire_due_timers(session, clock=clock, site=site, echo=echo)
        else:
            case_id = session.scalar(
                select(cases.Case.id)
                .where(cases.Case.client_id == client.id)
                .order_by(cases.Case.id)
            )
        # A demo client whose case is gone has no open steps: reported as unexpected below.
        steps = _open_steps(session, case_id) if case_id is not None else set()
        ok = demo.expect <= steps
        all_ok = all_ok and ok
        holders = ", ".join(sorted(steps)) or "finished"
        echo(
            f"{name}: at {holders} "
            + ("[as expected]" if ok else f"[UNEXPECTED, wanted {', '.join(sorted(demo.expect))}]")
        )
    return all_ok


def _run_step(
    session: Session,
    case: cases.Case,
    step: str,
    data: dict[str, Any] | None,
    *,
    users: Mapping[str, User],
    clock: Clock,
    site: Site,
    echo: Callable[[str], None],
) -> None:
    """One scripted step: `message:<name>` delivers a message (e.g. a discharge from the
    hospital's ADT feed); `screen:<instrument>` screens the client now (a ward nurse, say);
    any other step completes the oldest open task with that id."""
    if step.startswith("screen:"):
        nurse = _member(users, "nurse")
        screen = screenings.screen_now(
            session,
            case_id=case.id,
            instrument=step.split(":", 1)[1],
            answers=data or {},
            actor=nurse,
            clock=clock,
            site=site,
        )
        nxt = ", ".join(f"{t.name} ({_holder(session, t)})" for t in screen.created_tasks)
        echo(f"  {step} by {nurse.username} -> next: {nxt or 'nothing'}")
        return
    if step.startswith("message:"):
        name = step.split(":", 1)[1]
        payload = dict(data or {})
        if name == "discharge":
            # The hospital's ADT feed says when the client left: now, in the demo's time.
            payload.setdefault("discharged_at", clock.now().isoformat())
        results = instances.deliver_message(
            session,
            name=name,
            case_id=case.id,
            payload=payload,
            actor=None,
            clock=clock,
            site=site,
        )
        created = [t for r in results for t in r.created_tasks]
        nxt = ", ".join(
            f"{t.name} ({_holder(session, t)}, due {t.due_at:%a %d %b})" for t in created
        )
        echo(f"  message '{name}' received -> next: {nxt or 'waiting'}")
        return
    # The oldest open task of that kind (a care plan opens one referral per need).
    task = next(
        t
        for t in inbox.tasks_for_case(session, case.id)
        if t.status == "open" and t.bpmn_id == step
    )
    actor = session.get(User, task.assignee_id) if task.assignee_id else _member(users, task.role)
    assert actor is not None
    result = instances.complete_task(
        session,
        task_id=task.id,
        data=data or STEP_DATA[step](),
        actor=actor,
        clock=clock,
        site=site,
    )
    nxt = ", ".join(f"{t.name} ({_holder(session, t)})" for t in result.created_tasks)
    echo(f"  {task.name} completed by {actor.username} -> next: {nxt or 'waiting'}")


def holiday_window_start(now: datetime, site: Site) -> datetime:
    """The latest weekday morning (10:00 local) before `now` whose 2-business-day window holds
    a public holiday, so the demo shows the calendar at work."""
    tz = ZoneInfo(site.timezone)
    day = now.astimezone(tz).date()
    for _ in range(120):
        day -= timedelta(days=1)
        start = datetime.combine(day, time(10, 0), tz)
        if start.weekday() < 5 and start < now:
            span = (add_business_days(start, 2, site=site).date() - day).days
            window = [day + timedelta(days=d) for d in range(1, span + 1)]
            if any(d.weekday() < 5 and not is_business_day(d, site=site) for d in window):
                return start.astimezone(UTC)
    return now - timedelta(days=1)


def _fire_due_timers(
    session: Session, *, clock: Clock, site: Site, echo: Callable[[str], None]
) -> None:
    """Work made overdue by back-dating has timers already due: fire them as the scheduler would."""
    for timer_id in timers.claim_due_timers(session, owner="demo", now=clock.now()):
        if instances.fire_timer(session, timer_id=timer_id, clock=clock, site=site):
            echo(f"  timer {timer_id} fired (overdue work escalated)")


def _member(users: Mapping[str, User], role: str | None) -> User:
    for user in users.values():
        if role and user.has_role(role):
            return user
    raise RuntimeError(f"no demo user has the role {role}")


def seed(
    session: Session,
    *,
    password: str | None,
    password_file: Path | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
    echo: Callable[[str], None] = print,
) -> str:
    value, origin = _password(password, password_file)
    seed_users(session, password=value)
    run_demo(session, clock=clock, site=site, echo=echo)
    seed_intern(session, password=value)
    logins = ", ".join([*(u[0] for u in DEMO_USERS), DEMO_INTERN[0]])
    return f"demo logins: {logins} — password: {value} ({origin})"
