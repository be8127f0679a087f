"""/fhir/R4: integration tokens only; every resource produced validates as FHIR R4 with
fhir.resources and carries the case's own data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources import construct_fhir_element
from fhir.resources.bundle import Bundle
from fhir.resources.capabilitystatement import CapabilityStatement
from fhir.resources.operationoutcome import OperationOutcome
from sqlalchemy import select

from engine import accounts, cases, screenings
from engine.audit.models import AuditEvent
from engine.cases.models import Case
from engine.integration.models import Admission
from tests import factories

PHQ9 = {f"q{i}": 1 for i in range(1, 10)}
AHC = {
    "q1": "worried",
    "q2": [],
    "q3": "often",
    "q4": "never",
    "q5": False,
    "q6": "no",
    "q7": 1,
    "q8": 1,
    "q9": 1,
    "q10": 1,
}


@pytest.fixture
def world(session, clock) -> dict[str, Any]:
    interface = factories.UserFactory(username="interface", role_keys=("admin",))
    worker = factories.SocialWorkerFactory()
    case, _ = cases.open_case(
        session,
        client={
            "given_name": "Grace",
            "family_name": "Okafor",
            "birth_date": "1948-03-11",
            "mrn": "H1001",
            "postal_code": "02118",
        },
        reason="Discharge planning",
        actor=worker,
        clock=clock,
    )
    session.add(
        Admission(
            client_id=case.client_id,
            visit_number="V77",
            status="active",
            control_id="C1",
            admitted_at=datetime(2026, 3, 1, 14, 0, tzinfo=UTC),
            recorded_at=clock.now(),
        )
    )
    screenings.screen_now(
        session, case_id=case.id, instrument="phq9", answers=PHQ9, actor=worker, clock=clock
    )
    screenings.screen_now(
        session, case_id=case.id, instrument="ahc_hrsn", answers=AHC, actor=worker, clock=clock
    )
    session.flush()

    def token(*scopes: str) -> dict[str, str]:
        value = accounts.create_token(session, interface, now=clock.now(), scopes=scopes)
        return {"Authorization": f"Bearer {value}"}

    return {"case": case, "client_id": case.client_id, "token": token, "worker": worker}


def entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    Bundle.parse_obj(body)
    return [e["resource"] for e in body.get("entry", [])]


def test_metadata_is_a_capability_statement(client, world) -> None:
    response = client.get("/fhir/R4/metadata", headers=world["token"]("fhir:read"))
    assert response.status_code == 200
    statement = CapabilityStatement.parse_obj(response.get_json())
    assert statement.fhirVersion == "4.0.1"


def test_a_token_without_the_scope_is_refused(client, world) -> None:
    response = client.get(f"/fhir/R4/Patient/{world['client_id']}", headers=world["token"]())
    assert response.status_code == 403
    OperationOutcome.parse_obj(response.get_json())


def test_no_token_is_401(client, world) -> None:
    assert client.get(f"/fhir/R4/Patient/{world['client_id']}").status_code == 401


def test_patient_carries_the_clients_demographics_and_the_read_is_audited(
    client, session, world
) -> None:
    response = client.get(
        f"/fhir/R4/Patient/{world['client_id']}", headers=world["token"]("fhir:read")
    )
    assert response.status_code == 200
    patient = construct_fhir_element("Patient", response.get_json())
    assert patient.identifier[0].value == "H1001"
    assert patient.name[0].family == "Okafor"
    assert patient.birthDate.isoformat() == "1948-03-11"
    assert patient.address[0].postalCode == "02118"
    audited = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "integration:fhir:read",
            AuditEvent.client_id == world["client_id"],
        )
    ).all()
    assert len(audited) == 1


def test_encounter_search_by_patient(client, world) -> None:
    response = client.get(
        f"/fhir/R4/Encounter?patient={world['client_id']}", headers=world["token"]("fhir:read")
    )
    [encounter] = entries(response.get_json())
    parsed = construct_fhir_element("Encounter", encounter)
    assert parsed.status == "in-progress"
    assert parsed.identifier[0].value == "V77"


def test_the_phq9_total_observation_has_its_loinc_code_and_score(client, world) -> None:
    response = client.get(
        f"/fhir/R4/Observation?patient={world['client_id']}", headers=world["token"]("fhir:read")
    )
    found = [construct_fhir_element("Observation", r) for r in entries(response.get_json())]
    totals = [o for o in found if o.code.coding and o.code.coding[0].code == "44261-6"]
    assert [o.valueInteger for o in totals] == [9]
    item9 = [o for o in found if o.code.coding and o.code.coding[0].code == "44260-8"]
    assert [o.valueInteger for o in item9] == [1]


def test_questionnaire_responses_carry_the_answers_and_total(client, world) -> None:
    response = client.get(
        f"/fhir/R4/QuestionnaireResponse?patient={world['client_id']}",
        headers=world["token"]("fhir:read"),
    )
    found = [
        construct_fhir_element("QuestionnaireResponse", r) for r in entries(response.get_json())
    ]
    phq9 = next(q for q in found if "phq9" in q.questionnaire)
    total = next(i for i in phq9.item if i.linkId == "total")
    assert total.answer[0].valueInteger == 9


def test_a_positive_social_needs_screen_is_a_gravity_condition(client, world) -> None:
    response = client.get(
        f"/fhir/R4/Condition?patient={world['client_id']}", headers=world["token"]("fhir:read")
    )
    found = [construct_fhir_element("Condition", r) for r in entries(response.get_json())]
    categories = {cd.code for c in found for cat in c.category for cd in cat.coding}
    assert {"housing-instability", "food-insecurity"} <= categories
    assert "transportation-insecurity" not in categories


def test_count_pages_the_bundle(client, world) -> None:
    headers = world["token"]("fhir:read")
    first = client.get(
        f"/fhir/R4/Observation?patient={world['client_id']}&_count=2", headers=headers
    ).get_json()
    assert len(entries(first)) == 2
    assert first["total"] > 2
    [next_link] = [lk["url"] for lk in first["link"] if lk["relation"] == "next"]
    second = client.get(next_link.replace("http://localhost", ""), headers=headers).get_json()
    ids = {r["id"] for r in entries(first)} & {r["id"] for r in entries(second)}
    assert ids == set()


def test_last_updated_filters(client, world) -> None:
    headers = world["token"]("fhir:read")
    url = f"/fhir/R4/Observation?patient={world['client_id']}&_lastUpdated=gt2026-03-03"
    assert client.get(url, headers=headers).get_json()["total"] == 0


CONSULT = {
    "resourceType": "ServiceRequest",
    "status": "active",
    "intent": "order",
    "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "410606002"}]}],
    "subject": {
        "reference": "#p",
        "identifier": {
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                ]
            },
            "value": "H2002",
        },
    },
    "contained": [
        {
            "resourceType": "Patient",
            "id": "p",
            "name": [{"family": "Ruiz", "given": ["Tomas"]}],
            "birthDate": "1961-07-04",
        }
    ],
    "reasonCode": [{"text": "Lives alone, unsafe discharge"}],
}


def test_a_consult_opens_a_case(client, session, world) -> None:
    response = client.post(
        "/fhir/R4/ServiceRequest", json=CONSULT, headers=world["token"]("fhir:write")
    )
    assert response.status_code == 201
    assert "/fhir/R4/ServiceRequest/consult-" in response.headers["Location"]
    case_id = int(response.get_json()["identifier"][0]["value"])
    case = session.get(Case, case_id)
    assert case.client.mrn == "H2002"
    assert "unsafe discharge" in case.reason


def test_a_consult_for_a_client_with_an_open_case_joins_it(client, world) -> None:
    body = dict(CONSULT, subject={"identifier": {"value": "H1001"}}, contained=None)
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post(
        "/fhir/R4/ServiceRequest", json=body, headers=world["token"]("fhir:write")
    )
    assert response.status_code == 201
    assert response.get_json()["identifier"][0]["value"] == str(world["case"].id)


def test_an_invalid_service_request_is_400_with_an_operation_outcome(client, world) -> None:
    body = dict(CONSULT, status="not-a-status")
    response = client.post(
        "/fhir/R4/ServiceRequest", json=body, headers=world["token"]("fhir:write")
    )
    assert response.status_code == 400
    OperationOutcome.parse_obj(response.get_json())


def test_a_read_token_cannot_order_a_consult(client, world) -> None:
    response = client.post(
        "/fhir/R4/ServiceRequest", json=CONSULT, headers=world["token"]("fhir:read")
    )
    assert response.status_code == 403


def test_a_service_request_without_a_subject_is_400(client, world) -> None:
    body = {k: v for k, v in CONSULT.items() if k != "subject"}
    response = client.post(
        "/fhir/R4/ServiceRequest", json=body, headers=world["token"]("fhir:write")
    )
    assert response.status_code == 400
    issues = OperationOutcome.parse_obj(response.get_json()).issue
    assert any("subject" in (i.expression or [""])[0] for i in issues)


@pytest.fixture
def referral(session, clock, world):  # type: ignore[no-untyped-def]
    from engine.referrals.models import Consent, Referral

    consent = Consent(
        client_id=world["client_id"],
        recipient="Food Bank",
        recipient_key="food bank",
        scope="referral",
        given_at=clock.now(),
    )
    session.add(consent)
    session.flush()
    row = Referral(
        case_id=world["case"].id,
        client_id=world["client_id"],
        need="food",
        organization_name="Food Bank",
        service_name="Groceries",
        status="in-progress",
        consent_id=consent.id,
        created_at=clock.now(),
        requested_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def test_a_referral_is_a_gravity_service_request_and_task(client, world, referral) -> None:
    headers = world["token"]("fhir:read")
    order = construct_fhir_element(
        "ServiceRequest",
        client.get(f"/fhir/R4/ServiceRequest/{referral.id}", headers=headers).get_json(),
    )
    task = construct_fhir_element(
        "Task", client.get(f"/fhir/R4/Task/{referral.id}", headers=headers).get_json()
    )
    assert order.status == "active"
    assert order.category[0].coding[0].code == "food-insecurity"
    assert (task.status, task.focus.reference) == ("in-progress", f"ServiceRequest/{referral.id}")


def test_the_referral_consent_is_a_fhir_consent(client, world, referral) -> None:
    response = client.get(
        f"/fhir/R4/Consent?patient={world['client_id']}", headers=world["token"]("fhir:read")
    )
    [consent] = [construct_fhir_element("Consent", r) for r in entries(response.get_json())]
    assert consent.status == "active"
    assert consent.provision.actor[0].reference.display == "Food Bank"


def test_a_person_off_the_care_team_reads_no_patient(client, session, clock, world) -> None:
    outsider = factories.SocialWorkerFactory()
    token = accounts.create_token(session, outsider, now=clock.now(), scopes=("fhir:read",))
    response = client.get(
        f"/fhir/R4/Patient/{world['client_id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
