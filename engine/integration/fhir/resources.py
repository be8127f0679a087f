"""CareBridge rows -> FHIR R4 resources, each built and validated by fhir.resources models
(a mapping error fails here, not in the hospital's FHIR client)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fhir.resources.capabilitystatement import CapabilityStatement
from fhir.resources.condition import Condition
from fhir.resources.consent import Consent
from fhir.resources.encounter import Encounter
from fhir.resources.observation import Observation
from fhir.resources.patient import Patient
from fhir.resources.questionnaireresponse import QuestionnaireResponse
from fhir.resources.resource import Resource
from fhir.resources.servicerequest import ServiceRequest
from fhir.resources.task import Task

from engine import instruments
from engine.assessments.models import Assessment
from engine.cases.models import Client
from engine.errors import NotFound
from engine.integration.fhir import codes as c
from engine.integration.models import Admission
from engine.referrals.models import Consent as ConsentRow
from engine.referrals.models import Referral

RESOURCE_TYPES = (
    "Patient",
    "Encounter",
    "QuestionnaireResponse",
    "Observation",
    "Condition",
    "ServiceRequest",
    "Task",
    "Consent",
)


def as_json(resource: Resource) -> dict[str, Any]:
    # The model's own JSON encoder: FHIR dates, instants and decimals as the spec writes them.
    return json.loads(resource.json())


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _meta(updated: datetime | None) -> dict[str, Any]:
    return {"lastUpdated": _instant(updated)} if updated else {}


def patient_ref(client_id: int) -> dict[str, str]:
    return {"reference": f"Patient/{client_id}"}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _sdoh(code: str) -> dict[str, Any]:
    return {"coding": [_coding(c.SDOHCC, code)]}


def patient(client: Client) -> Patient:
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(client.id),
        "meta": _meta(client.created_at),
        "name": [{"family": client.family_name, "given": [client.given_name]}],
        "birthDate": client.birth_date.isoformat(),
    }
    if client.mrn:
        data["identifier"] = [
            {
                "type": {"coding": [_coding(c.MRN_TYPE, "MR")]},
                "system": c.MRN_SYSTEM,
                "value": client.mrn,
            }
        ]
    if client.phone:
        data["telecom"] = [{"system": "phone", "value": client.phone}]
    if client.postal_code:
        data["address"] = [{"postalCode": client.postal_code}]
    if client.preferred_language:
        data["communication"] = [
            {"language": {"text": client.preferred_language}, "preferred": True}
        ]
    return Patient.parse_obj(data)


_ENCOUNTER_STATUS = {"active": "in-progress", "ended": "finished", "cancelled": "cancelled"}


def encounter(row: Admission) -> Encounter:
    period: dict[str, Any] = {}
    if row.admitted_at:
        period["start"] = _instant(row.admitted_at)
    if row.discharged_at:
        period["end"] = _instant(row.discharged_at)
    data: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(row.id),
        "meta": _meta(row.discharged_at or row.recorded_at),
        "status": _ENCOUNTER_STATUS.get(row.status, "unknown"),
        "class": _coding(c.ACT_CODE, "IMP", "inpatient encounter"),
        "subject": patient_ref(row.client_id),
    }
    if period:
        data["period"] = period
    if row.visit_number:
        data["identifier"] = [{"system": f"{c.CAREBRIDGE}:visit", "value": row.visit_number}]
    return Encounter.parse_obj(data)


def _answer(item: instruments.Item, value: Any) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    out: list[dict[str, Any]] = []
    for v in values:
        label = next((o.label for o in item.options if o.value == v), None)
        if isinstance(v, bool):
            out.append({"valueBoolean": v})
        elif isinstance(v, int):
            out.append({"valueInteger": v})
        elif label is not None:
            out.append({"valueCoding": _coding(f"{c.CAREBRIDGE}:answer", str(v), label)})
        else:
            out.append({"valueString": str(v)})
    return out


def _instrument(row: Assessment) -> instruments.Instrument | None:
    try:
        return instruments.get_instrument(row.instrument)
    except NotFound:
        return None


def questionnaire_response(row: Assessment) -> QuestionnaireResponse:
    spec = _instrument(row)
    items = []
    for item in spec.items if spec else ():
        if item.id not in (row.answers or {}):
            continue
        entry: dict[str, Any] = {"linkId": item.id, "text": item.text}
        answer = _answer(item, row.answers[item.id])
        if answer:
            entry["answer"] = answer
        if item.loinc:
            entry["definition"] = f"{c.LOINC}#{item.loinc}"
        items.append(entry)
    if row.score is not None and spec is not None and spec.loinc_total:
        items.append(
            {
                "linkId": "total",
                "text": "Total score",
                "definition": f"{c.LOINC}#{spec.loinc_total}",
                "answer": [{"valueInteger": row.score}],
            }
        )
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(row.id),
        "meta": _meta(row.administered_at),
        "questionnaire": f"{c.CAREBRIDGE}:instrument:{row.instrument}|{row.version}",
        "status": "completed",
        "subject": patient_ref(row.client_id),
        "authored": _instant(row.administered_at),
        "item": items or None,
    }
    return QuestionnaireResponse.parse_obj({k: v for k, v in data.items() if v is not None})


def observations(row: Assessment) -> list[Observation]:
    """The screen's total (or risk level) as one Observation with its items as members,
    and one Observation per item that has a LOINC code. Ids: "<assessment>-total" etc."""
    spec = _instrument(row)
    flags = [f for f in (row.flags or []) if isinstance(f, str)]
    categories = [{"coding": [_coding(c.OBS_CATEGORY, "survey")]}]
    categories += [{"coding": [_coding(c.OBS_CATEGORY, "social-history")]}] if flags else []
    categories += [_sdoh(c.SDOH_CATEGORY_OF_FLAG[f]) for f in flags if f in c.SDOH_CATEGORY_OF_FLAG]
    base = {
        "resourceType": "Observation",
        "meta": _meta(row.administered_at),
        "status": "final",
        "subject": patient_ref(row.client_id),
        "effectiveDateTime": _instant(row.administered_at),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{row.id}"}],
    }
    items: list[Observation] = []
    for item in spec.items if spec else ():
        value = (row.answers or {}).get(item.id)
        if not item.loinc or value is None or isinstance(value, list):
            continue
        obs: dict[str, Any] = dict(base, id=f"{row.id}-{item.id}", category=categories[:1])
        obs["code"] = {"coding": [_coding(c.LOINC, item.loinc)], "text": item.text[:200]}
        if isinstance(value, bool):
            obs["valueBoolean"] = value
        elif isinstance(value, int):
            obs["valueInteger"] = value
        else:
            obs["valueString"] = str(value)
        items.append(Observation.parse_obj(obs))
    total_code = (spec.loinc_total or spec.loinc_panel) if spec else None
    total: dict[str, Any] = dict(base, id=f"{row.id}-total", category=categories)
    total["code"] = (
        {"coding": [_coding(c.LOINC, total_code)], "text": spec.title if spec else row.instrument}
        if total_code
        else {"text": spec.title if spec else row.instrument}
    )
    if row.score is not None:
        total["valueInteger"] = row.score
    elif row.risk_level:
        total["valueString"] = row.risk_level
    if row.band:
        total["interpretation"] = [{"text": row.band}]
    if items:
        total["hasMember"] = [{"reference": f"Observation/{o.id}"} for o in items]
    return [Observation.parse_obj(total), *items]


def conditions(row: Assessment) -> list[Condition]:
    """An identified social need (a positive AHC HRSN domain) as a Gravity SDOH Condition."""
    out = []
    for flag in row.flags or []:
        if flag not in c.CONDITION_CODE_OF_FLAG:
            continue
        code, display = c.CONDITION_CODE_OF_FLAG[flag]
        data = {
            "resourceType": "Condition",
            "id": f"{row.id}-{flag.replace('_', '-')}",
            "meta": _meta(row.administered_at),
            "clinicalStatus": {"coding": [_coding(c.CONDITION_CLINICAL, "active")]},
            "verificationStatus": {"coding": [_coding(c.CONDITION_VERIFICATION, "unconfirmed")]},
            "category": [
                {"coding": [_coding(c.CONDITION_CATEGORY, "health-concern")]},
                _sdoh(c.SDOH_CATEGORY_OF_FLAG[flag]),
            ],
            "code": {"coding": [_coding(c.SNOMED, code, display)]},
            "subject": patient_ref(row.client_id),
            "onsetDateTime": _instant(row.administered_at),
            "evidence": [{"detail": [{"reference": f"Observation/{row.id}-total"}]}],
        }
        out.append(Condition.parse_obj(data))
    return out


def _referral_category(row: Referral) -> list[dict[str, Any]]:
    category = c.SDOH_CATEGORY_OF_NEED.get(row.need, "sdoh-category-unspecified")
    return [_sdoh(category)]


def service_request(row: Referral) -> ServiceRequest:
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(row.id),
        "meta": _meta(row.updated_at),
        "status": c.SERVICE_REQUEST_STATUS.get(row.status, "unknown"),
        "intent": "order",
        "category": _referral_category(row),
        "code": {"text": row.service_name or row.need},
        "subject": patient_ref(row.client_id),
        "authoredOn": _instant(row.requested_at or row.created_at),
    }
    if row.consent_id:
        data["supportingInfo"] = [{"reference": f"Consent/{row.consent_id}"}]
    if row.order_detail:
        data["orderDetail"] = [
            {"coding": [_coding(c.SDOHCC, row.order_detail)], "text": row.order_detail}
        ]
    return ServiceRequest.parse_obj(data)


def task(row: Referral) -> Task:
    data: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(row.id),
        "meta": _meta(row.updated_at),
        "status": c.TASK_STATUS.get(row.status, row.status),
        "intent": "order",
        "code": {
            "coding": [
                _coding(
                    "http://hl7.org/fhir/CodeSystem/task-code",
                    "fulfill",
                    "Fulfill the focal request",
                )
            ]
        },
        "focus": {"reference": f"ServiceRequest/{row.id}"},
        "for": patient_ref(row.client_id),
        "authoredOn": _instant(row.requested_at or row.created_at),
        "lastModified": _instant(row.updated_at),
    }
    if row.organization_name:
        data["owner"] = {"display": row.organization_name}
    if row.status_reason:
        data["statusReason"] = {"text": row.status_reason}
    return Task.parse_obj(data)


def consent(row: ConsentRow) -> Consent:
    period: dict[str, Any] = {"start": _instant(row.given_at)}
    if row.expires_at:
        period["end"] = _instant(row.expires_at)
    status = "inactive" if row.revoked_at else "active"
    data = {
        "resourceType": "Consent",
        "id": str(row.id),
        "meta": _meta(row.revoked_at or row.given_at),
        "status": status,
        "scope": {"coding": [_coding(c.CONSENT_SCOPE, "patient-privacy")]},
        "category": [{"coding": [_coding(c.LOINC, "59284-0", "Consent Document")]}],
        "patient": patient_ref(row.client_id),
        "dateTime": _instant(row.given_at),
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [
                            _coding(
                                "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "IRCP",
                                "information recipient",
                            )
                        ]
                    },
                    "reference": {"display": row.recipient},
                }
            ],
        },
    }
    return Consent.parse_obj(data)


def capability_statement(*, base_url: str, now: datetime) -> CapabilityStatement:
    search = [
        {"name": "patient", "type": "reference"},
        {"name": "_lastUpdated", "type": "date"},
        {"name": "_count", "type": "number"},
    ]
    resources: list[dict[str, Any]] = [
        {
            "type": t,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": search if t != "Patient" else search[1:],
        }
        for t in RESOURCE_TYPES
    ]
    resources[RESOURCE_TYPES.index("ServiceRequest")]["interaction"].append({"code": "create"})
    return CapabilityStatement.parse_obj(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": now.isoformat(),
            "kind": "instance",
            "software": {"name": "CareBridge"},
            "implementation": {"description": "CareBridge FHIR R4 API", "url": base_url},
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "description": "Bearer integration token with scope fhir:read / fhir:write."
                    },
                    "resource": resources,
                }
            ],
        }
    )
