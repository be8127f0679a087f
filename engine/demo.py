"""Demo data: users of every role and clients pushed along the pathway to known steps.

Used by `carebridge init --demo` and `carebridge demo`, and (its sample form data) by tests.
Idempotent: a client already present is reported at its current step, not created again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import accounts, cases, inbox, instances, timers
from engine.accounts.models import User
from engine.calendar import DEFAULT_SITE, Site
from engine.cases.models import Client
from engine.clock import Clock, FrozenClock
from engine.settings import ROOT

PASSWORD_FILE = ROOT / "var" / "demo-password.txt"

DEMO_USERS = (
    ("alex", "Alex Rivera", ("social_worker",), True),
    ("sam", "Sam Okafor", ("social_worker",), False),
    ("kim", "Kim Nguyen", ("nurse",), False),
    ("patel", "Dr. Priya Patel", ("physician",), False),
    ("jordan", "Jordan Blake", ("case_manager",), False),
    ("morgan", "Morgan Lee", ("supervisor",), False),
    ("admin", "Site Administrator", ("admin",), False),
)

# ---------------------------------------------------------------- sample forms -----
INTAKE = {
    "referral_date": "2026-03-02",
    "referral_source": "physician",
    "reason_for_referral": "Lives alone after a fall; worried about managing at home.",
    "living_situation": "alone",
    "primary_language": "English",
    "interpreter_needed": False,
    "consent_to_social_work": "client",
}
NARRATIVE = {
    "assessment_date": "2026-03-02",
    "setting": "bedside",
    "family_and_support": "Daughter nearby, visits weekly.",
    "finances": "Fixed income; short at month end.",
    "housing": "Rents a second-floor flat.",
    "coping": "Low mood since a bereavement.",
    "strengths": "Church community; motivated to go home.",
    "goals": "Go home safely.",
}
AHC_NO_NEEDS = {
    "q1": "steady",
    "q2": [],
    "q3": "never",
    "q4": "never",
    "q5": False,
    "q6": "no",
    "q7": 1,
    "q8": 1,
    "q9": 1,
    "q10": 1,
}
AHC_FOOD_HOUSING = {**AHC_NO_NEEDS, "q1": "worried", "q3": "often", "q4": "sometimes"}
CSSRS_NONE = {"q1": False, "q2": False, "q6": False}
CSSRS_HIGH = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}


def assessment(
    *,
    phq2: Mapping[str, int] | None = None,
    cssrs: Mapping[str, Any] = CSSRS_NONE,
    ahc: Mapping[str, Any] = AHC_NO_NEEDS,
    phq9: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    data = {
        **NARRATIVE,
        "phq2": dict(phq2 or {"q1": 0, "q2": 1}),
        "cssrs": dict(cssrs),
        "ahc_hrsn": dict(ahc),
    }
    if phq9 is not None:
        data["phq9"] = dict(phq9)
    return data


def care_plan(needs: tuple[str, ...] = ("food",), interval: str = "P14D") -> dict[str, Any]:
    return {
        "goal_1": "Food at home every day of the month.",
        "needs": list(needs),
        "client_agrees": True,
        "followup_interval": interval,
    }


REFERRAL = {
    "referral_made": True,
    "need": "food",
    "organisation_name": "Eastside Food Bank",
    "service": "Home-delivered groceries",
    "contact_made": True,
    "consent_to_share_recorded": True,
}
HOUSING_REFERRAL = {
    "referral_made": True,
    "need": "housing",
    "organisation_name": "City Housing Help Desk",
    "service": "Emergency rental assistance",
    "consent_to_share_recorded": True,
}
ACKNOWLEDGE = {"response": "at_bedside"}
CRISIS = {
    "risk_summary": "Screen positive for active ideation with intent.",
    "actions_taken": ["stayed_with_client"],
    "lifeline_988_given": True,
    "safety_plan_started": True,
    "physician_notified": True,
}
SAFETY = {
    "one_to_one_observation": True,
    "environment_sweep": True,
    "belongings_searched": True,
    "physician_notified": True,
    "precautions_started_at": "2026-03-02T10:20:00-05:00",
}

SAFETY_PLAN = {
    "plan_status": "completed",
    "warning_signs": "Can't sleep; stops answering the phone.",
    "internal_coping": "Walk; music; cold shower.",
    "distraction_people_places": "Brother Mike; the gym.",
    "people_to_ask_for_help": "Mike (brother), 555-0142.",
    "professionals_and_agencies": "Outpatient clinic; 988 Suicide & Crisis Lifeline.",
    "lifeline_988_listed": True,
    "making_environment_safe": "Mike holds the medication; no firearms at home.",
    "copy_given": True,
}


def followup(decision: str = "close") -> dict[str, Any]:
    return {
        "contact_date": "2026-03-16",
        "contact_outcome": "reached_client",
        "referral_outcome": "got_help" if decision == "close" else "in_progress",
        "goals_progress": "met" if decision == "close" else "progressing",
        "decision": decision,
        "reason": "Needs met." if decision == "close" else "Still waiting for services.",
    }


CLOSING = {
    "closed_on": "2026-03-30",
    "summary": "Needs met; client at home with support.",
    "outcome": "needs_met",
    "goals_met": "all",
}

# Form data by task id, for the demo's scripted steps.
STEP_DATA: dict[str, Callable[[], dict[str, Any]]] = {
    "intake": lambda: dict(INTAKE),
    "assessment": assessment,
    "care_plan": care_plan,
    "send_referral": lambda: dict(REFERRAL),
    "acknowledge_crisis": lambda: dict(ACKNOWLEDGE),
    "crisis_response": lambda: dict(CRISIS),
    "crisis_safety_plan": lambda: dict(SAFETY_PLAN),
    "safety_plan": lambda: dict(SAFETY_PLAN),
    "safety_precautions": lambda: dict(SAFETY),
    "followup_review": followup,
    "close_case": lambda: dict(CLOSING),
}


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
    extra: dict[str, Any] = field(default_factory=dict)


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
        frozenset({"acknowledge_crisis", "safety_precautions"}),
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
            )
        else:
            accounts.set_password(user, password)
        users.append(user)
    return users


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
            when = FrozenClock(clock.now() - timedelta(days=demo.days_ago))
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
            for bpmn_id, data in demo.steps:
                # The oldest open task of that kind (a care plan opens one referral per need).
                task = next(
                    t
                    for t in inbox.tasks_for_case(session, case.id)
                    if t.status == "open" and t.bpmn_id == bpmn_id
                )
                actor = (
                    session.get(User, task.assignee_id)
                    if task.assignee_id
                    else _member(users, task.role)
                )
                result = instances.complete_task(
                    session,
                    task_id=task.id,
                    data=data or STEP_DATA[bpmn_id](),
                    actor=actor,
                    clock=when,
                    site=site,
                )
                nxt = (
                    ", ".join(f"{t.name} ({_holder(session, t)})" for t in result.created_tasks)
                    or "waiting"
                )
                echo(f"  {task.name} completed by {actor.username} -> next: {nxt}")
                when.advance(minutes=20)
            case_id = case.id
            _fire_due_timers(session, clock=clock, site=site, echo=echo)
        else:
            case_id = session.scalar(
                select(cases.Case.id)
                .where(cases.Case.client_id == client.id)
                .order_by(cases.Case.id)
            )
        steps = _open_steps(session, case_id)
        ok = demo.expect <= steps
        all_ok = all_ok and ok
        holders = ", ".join(sorted(steps)) or "finished"
        echo(
            f"{name}: at {holders} "
            + ("[as expected]" if ok else f"[UNEXPECTED, wanted {', '.join(sorted(demo.expect))}]")
        )
    return all_ok


def _fire_due_timers(
    session: Session, *, clock: Clock, site: Site, echo: Callable[[str], None]
) -> None:
    """Work made overdue by back-dating has timers already due: fire them as the scheduler would."""
    for timer_id in timers.claim_due_timers(session, owner="demo", now=clock.now()):
        if timers.fire(session, timer_id=timer_id, clock=clock, site=site):
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
    logins = ", ".join(u[0] for u in DEMO_USERS)
    return f"demo logins: {logins} — password: {value} ({origin})"
