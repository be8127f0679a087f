"""The ADT listener on a real socket (127.0.0.1, a free port): messages sent by the hl7
package's MLLP client, answered after their transaction committed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import hl7
import pytest
from hl7.client import MLLPClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cli.hl7 import ListenerThread
from engine import accounts, cases
from engine.calendar import Site
from engine.cases.models import Case, Client
from engine.clock import FrozenClock
from engine.inbox.models import HumanTask
from engine.integration.models import Admission, Hl7Message, IntegrationError

MSH = "MSH|^~\\&|EPIC|GENHOSP|CAREBRIDGE|SW|20261201120000||ADT^{event}|{control}|P|2.5"
PID = (
    "PID|1||{mrn}^^^GENHOSP^MR||Okafor^Grace^A||19480311|F|||12 Elm St^^Boston^MA^02118"
    "||6175550142||es"
)
PV1 = "PV1|1|I|4W^401^1||||||||||||||||V{visit}|||||||||||||||||{disp}||||||||{admit}|{discharge}"


def adt(
    event: str,
    control: str,
    *,
    mrn: str = "H1001",
    disp: str = "",
    discharge: str = "",
    admit: str = "202612010930",
    visit: str = "77",
) -> str:
    return "\r".join(
        [
            MSH.format(event=event, control=control),
            PID.format(mrn=mrn),
            PV1.format(visit=visit, disp=disp, admit=admit, discharge=discharge),
        ]
    )


@pytest.fixture
def listener(committed: sessionmaker[Session], clock: FrozenClock) -> Iterator[MLLPClient]:
    thread = ListenerThread(committed, host="127.0.0.1", port=0, site=Site(), clock=clock)
    port = thread.start()
    client = MLLPClient("127.0.0.1", port)
    try:
        yield client
    finally:
        client.close()
        thread.stop()


def send(client: MLLPClient, raw: str) -> hl7.Message:
    return hl7.parse(client.send_message(raw).decode())


def msa(ack: hl7.Message) -> tuple[str, str]:
    return str(ack["MSA.F1"]), str(ack["MSA.F2"])


def open_case_for(committed: sessionmaker[Session], clock: FrozenClock, mrn: str) -> int:
    with committed.begin() as session:
        worker = accounts.create_user(
            session, username=f"sw_{mrn}", display_name="Worker", roles=["social_worker"]
        )
        case, _ = cases.open_case(
            session,
            client={
                "given_name": "Grace",
                "family_name": "Okafor",
                "birth_date": "1948-03-11",
                "mrn": mrn,
            },
            reason="Discharge planning",
            actor=worker,
            clock=clock,
        )
        return case.id


def test_a01_creates_the_client_and_records_the_admission(listener, committed) -> None:
    ack = send(listener, adt("A01", "C-1"))
    assert msa(ack) == ("AA", "C-1")
    with committed.begin() as session:
        client = session.scalar(select(Client).where(Client.mrn == "H1001"))
        assert client is not None
        assert (client.given_name, client.family_name) == ("Grace", "Okafor")
        assert (client.postal_code, client.phone, client.preferred_language) == (
            "02118",
            "6175550142",
            "es",
        )
        admission = session.scalar(select(Admission).where(Admission.client_id == client.id))
        assert admission is not None
        assert admission.visit_number == "V77"
        # 09:30 without an offset is site time (New York, UTC-5 in December).
        assert admission.admitted_at == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def test_a03_with_an_offset_delivers_the_discharge_at_that_instant(
    listener, committed, clock
) -> None:
    case_id = open_case_for(committed, clock, "H1001")
    ack = send(listener, adt("A03", "C-2", disp="03", discharge="202603021015-0800"))
    assert msa(ack) == ("AA", "C-2")
    with committed.begin() as session:
        case = session.get(Case, case_id)
        assert case.discharged_at == datetime(2026, 3, 2, 18, 15, tzinfo=UTC)
        assert case.discharge_disposition == "snf"


def test_a03_without_an_offset_is_read_in_the_site_zone(listener, committed, clock) -> None:
    case_id = open_case_for(committed, clock, "H1001")
    ack = send(listener, adt("A03", "C-3", disp="01", discharge="202603020815"))
    assert msa(ack) == ("AA", "C-3")
    with committed.begin() as session:
        case = session.get(Case, case_id)
        assert case.discharged_at == datetime(2026, 3, 2, 13, 15, tzinfo=UTC)
        assert case.discharge_disposition == "home"


def test_a_repeated_control_id_is_acknowledged_again_and_changes_nothing(
    listener, committed
) -> None:
    first = send(listener, adt("A01", "C-4"))
    again = send(listener, adt("A01", "C-4"))
    assert msa(first) == msa(again) == ("AA", "C-4")
    with committed.begin() as session:
        assert len(session.scalars(select(Admission)).all()) == 1
        assert len(session.scalars(select(Hl7Message)).all()) == 1


def test_a03_for_an_unknown_mrn_is_an_application_error_listed_for_admins(
    listener, committed
) -> None:
    ack = send(listener, adt("A03", "C-5", mrn="NOPE", discharge="202603020815"))
    assert msa(ack) == ("AE", "C-5")
    assert "Unknown MRN" in str(ack["MSA.F3"])
    assert str(ack["ERR.F3.R1.C1"]) == "204"
    with committed.begin() as session:
        [error] = session.scalars(select(IntegrationError)).all()
        assert (error.control_id, error.code) == ("C-5", "hl7_unknown_mrn")
        assert session.scalar(select(Client).where(Client.mrn == "NOPE")) is None


def test_a11_cancels_an_admission_nothing_was_done_after(listener, committed) -> None:
    send(listener, adt("A01", "C-6"))
    ack = send(listener, adt("A11", "C-7"))
    assert msa(ack) == ("AA", "C-7")
    with committed.begin() as session:
        [admission] = session.scalars(select(Admission)).all()
        assert admission.status == "cancelled"


def test_a13_after_a_discharge_raises_a_review_task_for_the_case_manager(
    listener, committed, clock
) -> None:
    case_id = open_case_for(committed, clock, "H1001")
    send(listener, adt("A03", "C-8", disp="01", discharge="202603020815"))
    ack = send(listener, adt("A13", "C-9"))
    assert msa(ack) == ("AA", "C-9")
    with committed.begin() as session:
        [task] = session.scalars(
            select(HumanTask).where(HumanTask.kind == "integration", HumanTask.case_id == case_id)
        ).all()
        assert (task.role, task.status) == ("case_manager", "open")
