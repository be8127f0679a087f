"""A small builder of known history for the report tests: plain rows with exact times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.assessments.models import Assessment
from engine.cases.models import Case
from engine.inbox.models import HumanTask
from engine.referrals.models import Referral, ReferralEvent
from tests.factories import ClientFactory

# The report period of most tests: ISO week 2026-W09 in New York (EST, UTC-5), and the clock
# (conftest's FrozenClock) stands on Monday 2026-03-02 14:00 UTC.
FIRST, LAST = date(2026, 2, 23), date(2026, 3, 1)


def utc(day: int, hour: int = 15, minute: int = 0, month: int = 2) -> datetime:
    # Days past the month's end roll over (utc(30) is 2 March), as a deadline's arithmetic does.
    return datetime(2026, month, 1, hour, minute, tzinfo=UTC) + timedelta(days=day - 1)


@dataclass
class History:
    session: Session

    def case(self, *, worker: User | None = None, **fields: Any) -> Case:
        client = ClientFactory()
        values: dict[str, Any] = {"opened_at": utc(1, month=1), "status": "open"}
        values.update(fields)
        case = Case(
            client_id=client.id,
            reason="Report history",
            primary_social_worker_id=worker.id if worker else None,
            **values,
        )
        self.session.add(case)
        self.session.flush()
        return case

    def task(
        self,
        bpmn_id: str,
        *,
        created: datetime,
        due: datetime | None = None,
        completed: datetime | None = None,
        case: Case | None = None,
        **fields: Any,
    ) -> HumanTask:
        values: dict[str, Any] = {
            "kind": "bpmn",
            "name": bpmn_id.replace("_", " ").title(),
            "process_key": "care_pathway",
            "role": "social_worker",
            "priority": "routine",
            "status": "completed" if completed else "open",
        }
        values.update(fields)
        task = HumanTask(
            bpmn_id=bpmn_id,
            created_at=created,
            due_at=due or created + timedelta(days=3),
            completed_at=completed,
            case_id=case.id if case else None,
            client_id=case.client_id if case else None,
            **values,
        )
        self.session.add(task)
        self.session.flush()
        return task

    def referral(
        self, need: str, org: str, *, case: Case, sent: datetime, events: list[tuple]
    ) -> Referral:
        last = events[-1][0] if events else "requested"
        ref = Referral(
            case_id=case.id,
            client_id=case.client_id,
            need=need,
            organization_name=org,
            status=last,
            requested_at=sent,
            created_at=sent,
            updated_at=sent,
        )
        self.session.add(ref)
        self.session.flush()
        for to_status, at, *code in [("requested", sent), *events]:
            self.session.add(
                ReferralEvent(
                    referral_id=ref.id,
                    to_status=to_status,
                    reason_code=code[0] if code else None,
                    source="staff",
                    actor="test",
                    at=at,
                )
            )
        self.session.flush()
        return ref

    def screen(
        self, instrument: str, *, case: Case, at: datetime, band: str | None, flags: list[str]
    ) -> Assessment:
        row = Assessment(
            client_id=case.client_id,
            case_id=case.id,
            instrument=instrument,
            version="1",
            answers={},
            band=band,
            flags=flags,
            administered_at=at,
        )
        self.session.add(row)
        self.session.flush()
        return row
