"""ADT in: admissions, demographics and discharges from the hospital's HL7 v2 feed.

`apply_message` runs inside the caller's transaction and raises a domain error when a
message cannot be applied; the MLLP edge (engine.integration.mllp) rolls back, records the
failure in its own transaction and only then acknowledges. Parsing is the `hl7` package's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import hl7
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.calendar import DEFAULT_SITE, Site
from engine.cases.models import Case, Client
from engine.clock import Clock
from engine.errors import CareBridgeError, Invalid, NotFound
from engine.inbox.models import PRIORITY_RANK, HumanTask
from engine.integration.models import Admission, Hl7Message, IntegrationError

HANDLED_EVENTS = ("A01", "A03", "A04", "A08", "A11", "A13")

# PV1-36 discharge disposition (HL7 table 0112, filled by US hospitals with the UB-04
# patient-status codes) -> the `discharge` message's disposition. Anything else: "other".
PV1_36_DISPOSITION = {
    "01": "home",
    "06": "home_health",
    "03": "snf",
    "61": "snf",
    "64": "snf",
    "62": "rehab",
    "50": "hospice",
    "51": "hospice",
    "07": "ama",
    "20": "expired",
    "40": "expired",
    "41": "expired",
    "42": "expired",
}


@dataclass(frozen=True)
class Applied:
    """What a message did (ids only), for the processed-messages row and the ACK."""

    client_id: int | None = None
    case_id: int | None = None
    text: str = ""


def parse(raw: str) -> hl7.Message:
    try:
        message = hl7.parse(raw.strip("\r\n"))
        message.segment("MSH")
    except Exception as exc:  # the library raises several kinds on garbage
        raise Invalid("Not an HL7 v2 message.", code="hl7_unparseable") from exc
    return message


def field(message: hl7.Message, path: str) -> str:
    """One field/component by the library's path syntax ("PID.F3.R1.C1"); "" when absent."""
    try:
        value = message[path]
    except (KeyError, IndexError):
        return ""
    return message.unescape(str(value)) if value else ""


def control_id(message: hl7.Message) -> str:
    return field(message, "MSH.F10")[:64]


def event(message: hl7.Message) -> str:
    return field(message, "MSH.F9.R1.C2")


def message_type(message: hl7.Message) -> str:
    return f"{field(message, 'MSH.F9.R1.C1')}^{event(message)}"[:20]


def find_processed(session: Session, control: str) -> Hl7Message | None:
    return session.scalar(select(Hl7Message).where(Hl7Message.control_id == control))


def apply_message(
    session: Session, *, message: hl7.Message, clock: Clock, site: Site = DEFAULT_SITE
) -> Applied:
    """Apply one ADT message and remember its control id (AA). Raises CareBridgeError."""
    kind = field(message, "MSH.F9.R1.C1")
    ev = event(message)
    if kind != "ADT" or ev not in HANDLED_EVENTS:
        raise Invalid(f"Unsupported message type {kind}^{ev}.", code="hl7_unsupported")
    handler = _HANDLERS[ev]
    applied = handler(session, message, clock, site)
    session.add(
        Hl7Message(
            control_id=control_id(message),
            message_type=message_type(message),
            ack_code="AA",
            ack_text=applied.text[:200],
            client_id=applied.client_id,
            case_id=applied.case_id,
            received_at=clock.now(),
        )
    )
    return applied


def record_failure(
    session: Session, *, message: hl7.Message, error: CareBridgeError, ack_code: str, clock: Clock
) -> None:
    """The failed message's control id (a repeat gets the same answer) and an item in the
    administrators' integration-errors list."""
    now = clock.now()
    session.add(
        Hl7Message(
            control_id=control_id(message),
            message_type=message_type(message),
            ack_code=ack_code,
            ack_text=error.public_message[:200],
            received_at=now,
        )
    )
    session.add(
        IntegrationError(
            source="hl7",
            control_id=control_id(message),
            message_type=message_type(message),
            code=error.code,
            message=error.public_message,
            at=now,
        )
    )


# ---------------------------------------------------------------- fields -------------
def _mrn(message: hl7.Message) -> str:
    """PID-3: the repetition typed MR, else the first one."""
    try:
        repeats = len(message.segment("PID")[3])
    except (KeyError, IndexError):
        repeats = 0
    for r in range(1, repeats + 1):
        if field(message, f"PID.F3.R{r}.C5") == "MR" and field(message, f"PID.F3.R{r}.C1"):
            return field(message, f"PID.F3.R{r}.C1")[:40]
    mrn = field(message, "PID.F3.R1.C1")[:40]
    if not mrn:
        raise Invalid("PID-3 (MRN) is missing.", code="hl7_missing_mrn")
    return mrn


def _timestamp(value: str, site: Site, *, name: str) -> datetime | None:
    """A v2 TS: its own offset when it has one, else the site's zone."""
    if not value:
        return None
    try:
        parsed = hl7.parse_datetime(value)
    except ValueError as exc:
        raise Invalid(f"{name} is not an HL7 date-time.", code="hl7_bad_datetime") from exc
    if parsed is None:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=site.zone)


def _demographics(message: hl7.Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "family_name": field(message, "PID.F5.R1.C1")[:120],
        "given_name": field(message, "PID.F5.R1.C2")[:120],
        "postal_code": field(message, "PID.F11.R1.C5")[:20],
        "preferred_language": field(message, "PID.F15.R1.C1")[:40],
    }
    phone = field(message, "PID.F13.R1.C1") or (
        field(message, "PID.F13.R1.C6") + field(message, "PID.F13.R1.C7")
    )
    out["phone"] = phone[:40]
    birth = field(message, "PID.F7.R1.C1")
    if birth:
        try:
            out["birth_date"] = hl7.parse_datetime(birth[:8]).date()
        except (ValueError, AttributeError) as exc:
            raise Invalid("PID-7 is not a date.", code="hl7_bad_birth_date") from exc
    return {k: v for k, v in out.items() if v}


def _client(session: Session, mrn: str) -> Client | None:
    return session.scalar(select(Client).where(Client.mrn == mrn).with_for_update())


def _upsert_client(session: Session, message: hl7.Message, now: datetime) -> Client:
    mrn = _mrn(message)
    fields = _demographics(message)
    row = _client(session, mrn)
    if row is None:
        missing = [k for k in ("family_name", "given_name", "birth_date") if k not in fields]
        if missing:
            raise Invalid(
                "A new client needs a name (PID-5) and a birth date (PID-7).",
                code="hl7_incomplete_client",
            )
        row = Client(mrn=mrn, created_at=now, **fields)
        session.add(row)
        session.flush()
        return row
    for name, value in fields.items():
        setattr(row, name, value)
    return row


def _audit(session: Session, tag: str, *, now: datetime, client: Client, **details: Any) -> None:
    audit.record(
        session,
        tag,
        actor=audit.SYSTEM,
        at=now,
        category="demographics",
        client_id=client.id,
        case_id=details.pop("case_id", None),
        details=details,
    )


def _open_case(session: Session, client: Client) -> Case | None:
    return session.scalar(
        select(Case)
        .where(Case.client_id == client.id, Case.status == "open")
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .limit(1)
    )


# ---------------------------------------------------------------- events -------------
def _admit(session: Session, message: hl7.Message, clock: Clock, site: Site) -> Applied:
    now = clock.now()
    client = _upsert_client(session, message, now)
    admission = Admission(
        client_id=client.id,
        visit_number=field(message, "PV1.F19.R1.C1")[:40] or None,
        admitted_at=_timestamp(field(message, "PV1.F44.R1.C1"), site, name="PV1-44"),
        status="active",
        control_id=control_id(message),
        recorded_at=now,
    )
    session.add(admission)
    session.flush()
    _audit(
        session,
        "integration:adt:admit",
        now=now,
        client=client,
        admission_id=admission.id,
        event=event(message),
    )
    return Applied(client_id=client.id, text="admission recorded")


def _update(session: Session, message: hl7.Message, clock: Clock, site: Site) -> Applied:
    now = clock.now()
    row = _client(session, _mrn(message))
    if row is None:
        raise NotFound("Unknown MRN: no such client.", code="hl7_unknown_mrn")
    client = _upsert_client(session, message, now)
    _audit(session, "integration:adt:update", now=now, client=client, event="A08")
    return Applied(client_id=client.id, text="demographics updated")


def _discharge(session: Session, message: hl7.Message, clock: Clock, site: Site) -> Applied:
    from engine.instances import services as instances

    clock.now()
    client = _client(session, _mrn(message))
    if client is None:
        raise NotFound("Unknown MRN: no such client.", code="hl7_unknown_mrn")
    discharged_at = _timestamp(field(message, "PV1.F45.R1.C1"), site, name="PV1-45")
    if discharged_at is None:
        raise Invalid("PV1-45 (discharge date/time) is missing.", code="hl7_missing_discharge")
    disposition = PV1_36_DISPOSITION.get(field(message, "PV1.F36.R1.C1"), "other")
    admission = _admission(session, client, field(message, "PV1.F19.R1.C1"), status="active")
    if admission is not None:
        admission.discharged_at = discharged_at
        admission.status = "ended"
    case = _open_case(session, client)
    if case is None:
        # Most discharged patients never had a social-work case: nothing to start.
        return Applied(client_id=client.id, text="discharge recorded; no open case")
    instances.deliver_message(
        session,
        name="discharge",
        case_id=case.id,
        payload={"discharged_at": discharged_at.isoformat(), "disposition": disposition},
        actor=None,
        clock=clock,
        site=site,
    )
    return Applied(client_id=client.id, case_id=case.id, text="discharge delivered")


def _admission(session: Session, client: Client, visit: str, *, status: str) -> Admission | None:
    stmt = select(Admission).where(Admission.client_id == client.id, Admission.status == status)
    if visit:
        stmt = stmt.where(Admission.visit_number == visit)
    return session.scalar(stmt.order_by(Admission.id.desc()).limit(1))


def _completed_since(session: Session, client: Client, since: datetime) -> bool:
    return (
        session.scalar(
            select(HumanTask.id)
            .where(
                HumanTask.client_id == client.id,
                HumanTask.status == "completed",
                HumanTask.completed_at >= since,
            )
            .limit(1)
        )
        is not None
    )


def _cancel_admit(session: Session, message: hl7.Message, clock: Clock, site: Site) -> Applied:
    now = clock.now()
    client = _client(session, _mrn(message))
    if client is None:
        raise NotFound("Unknown MRN: no such client.", code="hl7_unknown_mrn")
    admission = _admission(session, client, field(message, "PV1.F19.R1.C1"), status="active")
    if admission is None:
        raise NotFound("No admission to cancel.", code="hl7_no_admission")
    if _completed_since(session, client, admission.recorded_at):
        case = _open_case(session, client)
        _review_task(session, client, case, "Admission cancelled by the hospital", now)
        return Applied(client_id=client.id, text="work done since: review task raised")
    admission.status = "cancelled"
    _audit(
        session,
        "integration:adt:cancel_admit",
        now=now,
        client=client,
        admission_id=admission.id,
    )
    return Applied(client_id=client.id, text="admission cancelled")


def _cancel_discharge(session: Session, message: hl7.Message, clock: Clock, site: Site) -> Applied:
    """A discharge already ended inpatient work and started transitional care with its own
    deadlines; reopening that silently could drop a follow-up call, so a person decides:
    the case manager gets a review task. The admission itself is reopened."""
    now = clock.now()
    client = _client(session, _mrn(message))
    if client is None:
        raise NotFound("Unknown MRN: no such client.", code="hl7_unknown_mrn")
    admission = _admission(session, client, field(message, "PV1.F19.R1.C1"), status="ended")
    if admission is not None:
        admission.status = "active"
        admission.discharged_at = None
    case = session.scalar(
        select(Case)
        .where(Case.client_id == client.id, Case.discharged_at.is_not(None))
        .order_by(Case.discharged_at.desc())
        .limit(1)
    )
    if case is None:
        _audit(session, "integration:adt:cancel_discharge", now=now, client=client)
        return Applied(client_id=client.id, text="discharge cancelled")
    _review_task(session, client, case, "Discharge cancelled by the hospital", now)
    return Applied(client_id=client.id, case_id=case.id, text="review task raised")


def _review_task(
    session: Session, client: Client, case: Case | None, title: str, now: datetime
) -> HumanTask:
    task = HumanTask(
        kind="integration",
        instance_id=None,
        spiff_task_id=None,
        bpmn_id="integration_review",
        name=f"{title}: review the case"[:255],
        process_key="integration",
        lane=None,
        role="case_manager",
        case_id=case.id if case else None,
        client_id=client.id,
        status="open",
        priority="urgent",
        priority_rank=PRIORITY_RANK["urgent"],
        due_at=now,
        created_at=now,
    )
    session.add(task)
    session.flush()
    _audit(
        session,
        "integration:review_task",
        now=now,
        client=client,
        case_id=case.id if case else None,
        task_id=task.id,
    )
    return task


_HANDLERS = {
    "A01": _admit,
    "A04": _admit,
    "A08": _update,
    "A03": _discharge,
    "A11": _cancel_admit,
    "A13": _cancel_discharge,
}
