"""ADT messages applied in the test's transaction (engine.integration.hl7_adt), and the ACKs
of messages that cannot be applied (engine.integration.mllp)."""

from __future__ import annotations

import hl7
import pytest
from sqlalchemy import select

from engine.cases.models import Client
from engine.errors import Invalid
from engine.integration import hl7_adt, mllp

A01 = (
    "MSH|^~\\&|EPIC|GENHOSP|CAREBRIDGE|SW|20261201120000||ADT^A01|M1|P|2.5\r"
    "PID|1||555^^^STATE^PI~H77^^^GENHOSP^MR||Ruiz^Tomas||19610704|M\r"
    "PV1|1|I"
)


def test_the_mrn_is_the_pid3_repetition_typed_mr(session, clock) -> None:
    hl7_adt.apply_message(session, message=hl7_adt.parse(A01), clock=clock)
    client = session.scalar(select(Client).where(Client.mrn == "H77"))
    assert client is not None


def test_a_new_client_without_a_birth_date_is_refused(session, clock) -> None:
    raw = A01.replace("19610704", "")
    with pytest.raises(Invalid):
        hl7_adt.apply_message(session, message=hl7_adt.parse(raw), clock=clock)


@pytest.mark.parametrize(
    ("code", "disposition"),
    [("01", "home"), ("06", "home_health"), ("07", "ama"), ("20", "expired"), ("99", None)],
)
def test_pv1_36_maps_to_the_discharge_disposition(code: str, disposition: str | None) -> None:
    assert hl7_adt.PV1_36_DISPOSITION.get(code) == disposition


def test_an_unsupported_message_is_rejected_with_ar(committed, clock) -> None:
    raw = A01.replace("ADT^A01", "ORU^R01")
    ack = hl7.parse(mllp.handle(committed, raw, clock=clock))
    assert str(ack["MSA.F1"]) == "AR"
    assert str(ack["ERR.F3.R1.C1"]) == "200"


def test_garbage_is_rejected_with_ar(committed, clock) -> None:
    ack = hl7.parse(mllp.handle(committed, "hello", clock=clock))
    assert str(ack["MSA.F1"]) == "AR"
