"""The /fhir/R4 routes: metadata, read, search (Bundle paging) and ServiceRequest create."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import request

from engine.errors import BadRequest
from engine.integration.fhir import consult as consults
from engine.integration.fhir import resources as fr
from engine.integration.fhir import services
from web import deps
from web.fhir import actor, bp, fhir_json, requires_scope

MAX_COUNT = 200
DEFAULT_COUNT = 50


@bp.get("/metadata")
@requires_scope("fhir:read")
def metadata() -> Any:
    statement = fr.capability_statement(
        base_url=request.url_root + "fhir/R4", now=deps.clock().now()
    )
    return fhir_json(fr.as_json(statement))


@bp.get("/<resource_type>/<resource_id>")
@requires_scope("fhir:read")
def read(resource_type: str, resource_id: str) -> Any:
    with deps.transaction() as session:
        if resource_type == "ServiceRequest" and resource_id.startswith("consult-"):
            body = services.read_consult(
                session, resource_id=resource_id, actor=actor(session), clock=deps.clock()
            )
        else:
            body = services.read(
                session,
                resource_type=resource_type,
                resource_id=resource_id,
                actor=actor(session),
                clock=deps.clock(),
            )
    return fhir_json(body)


@bp.get("/<resource_type>")
@requires_scope("fhir:read")
def search(resource_type: str) -> Any:
    count = _int_param("_count", DEFAULT_COUNT, low=0, high=MAX_COUNT)
    offset = _int_param("_offset", 0, low=0, high=None)
    patient = _patient_param(resource_type)
    conditions = [_last_updated(v) for v in request.args.getlist("_lastUpdated")]
    with deps.transaction() as session:
        page = services.search(
            session,
            resource_type=resource_type,
            actor=actor(session),
            clock=deps.clock(),
            patient=patient,
            last_updated=conditions,
            count=count,
            offset=offset,
        )
    return fhir_json(_bundle(resource_type, page, count=count, offset=offset))


@bp.post("/ServiceRequest")
@requires_scope("fhir:write")
def create_service_request() -> Any:
    body = request.get_json(silent=True)
    with deps.transaction() as session:
        received = consults.receive_consult(
            session, resource=body, actor=actor(session), clock=deps.clock(), site=deps.site()
        )
        resource = fr.as_json(consults.consult_resource(received.consult))
    response = fhir_json(resource, 201)
    response.headers["Location"] = f"{request.url_root}fhir/R4/ServiceRequest/{resource['id']}"
    return response


def _int_param(name: str, default: int, *, low: int, high: int | None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise BadRequest(f"{name} must be a whole number.", code="fhir_bad_param")
    value = int(raw)
    return max(low, min(value, high)) if high is not None else max(low, value)


def _patient_param(resource_type: str) -> int | None:
    raw = request.args.get("_id" if resource_type == "Patient" else "patient")
    if raw is None and resource_type == "Patient":
        raw = request.args.get("patient")
    if raw is None or raw == "":
        return None
    raw = raw.removeprefix("Patient/")
    if not raw.isdigit():
        raise BadRequest("patient must be a Patient id.", code="fhir_bad_param")
    return int(raw)


def _last_updated(raw: str) -> services.LastUpdated:
    prefix, value = (raw[:2], raw[2:]) if raw[:2] in ("ge", "gt", "le", "lt", "eq") else ("eq", raw)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            "_lastUpdated must be a date or an instant.", code="fhir_bad_param"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=deps.site().zone)
    return services.LastUpdated(prefix, at)


def _bundle(resource_type: str, page: services.Page, *, count: int, offset: int) -> dict[str, Any]:
    base = f"{request.url_root}fhir/R4/{resource_type}"
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in ("_offset", "_count")]

    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*params, ("_count", str(count)), ("_offset", str(at))])
        return {"relation": relation, "url": f"{base}?{query}"}

    links = [link("self", offset)]
    if count and offset + count < page.total:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": links,
        "entry": [
            {"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in page.resources
        ],
    }
