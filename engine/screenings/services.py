"""Screen now: any member of the care team gives an instrument on an open case, outside the
pathway's own assessment. The answers are scored and stored, and the outcome is routed in the
same transaction by the process the assessment uses too (screening_response, driven by the
risk_routing decision), so a positive screen reaches a person however it was taken."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine import access, instruments
from engine.accounts.models import User
from engine.assessments import services as assessments
from engine.assessments.models import Assessment
from engine.calendar import DEFAULT_SITE, Site
from engine.clock import Clock
from engine.errors import Conflict, Forbidden, Invalid
from engine.inbox.models import HumanTask
from engine.instances import services as instances
from engine.instances.models import ProcessInstance

RESPONSE_PROCESS = "screening_response"
# The roles that work cases; an administrator manages the system, not clients.
SCREENING_ROLES = ("social_worker", "nurse", "physician", "case_manager", "supervisor")


@dataclass(frozen=True)
class ScreenResult:
    assessment: Assessment
    result: instruments.ScoreResult
    instance: ProcessInstance
    created_tasks: list[HumanTask]


def screen_now(
    session: Session,
    *,
    case_id: int,
    instrument: Any,
    answers: Any,
    actor: User,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> ScreenResult:
    """Score, store and route one screen. NotFound (case), Conflict (case closed), Forbidden
    (not a care-team role), Invalid naming the instrument or every bad item; nothing is
    written when it raises. The caller commits."""
    if not actor.has_role(*SCREENING_ROLES):
        raise Forbidden("Only the care team may screen a client.", code="role_required")
    # Whoever may read the case's record may screen it (team, task holders, queue roles,
    # supervisors, break-glass); NotFound or RecordAccessDenied otherwise.
    case, _ = access.require_case_read(
        session, user=actor, case_id=case_id, now=clock.now(), category="screening"
    )
    if case.status != "open":
        raise Conflict("This case is closed: reopen it before screening.", code="case_closed")
    result = _score(instrument, answers)
    now = clock.now()
    row = assessments.record_assessment(
        session, case=case, result=result, answers=answers, actor=actor, now=now
    )
    summary = assessments.summarize({result.instrument: result}, {result.instrument: answers})
    assessments.flag_case(session, case, summary, actor, now)
    started = instances.start_process(
        session,
        process_key=RESPONSE_PROCESS,
        case=case,
        actor=actor,
        clock=clock,
        data={"screening": summary},
        site=site,
    )
    return ScreenResult(row, result, started.instance, list(started.created_tasks))


def _score(instrument: Any, answers: Any) -> instruments.ScoreResult:
    known = {i.key for i in instruments.list_instruments()}
    if not isinstance(instrument, str) or instrument not in known:
        raise Invalid(
            "Name a screening instrument.",
            code="invalid_screening",
            details=[
                {"field": "instrument", "message": f"must be one of {', '.join(sorted(known))}"}
            ],
        )
    if not isinstance(answers, Mapping):
        raise Invalid(
            "The answers must be an object keyed by item id.",
            code="invalid_answers",
            details=[{"field": "answers", "message": "must be an object keyed by item id"}],
        )
    return instruments.score(instrument, answers)
