"""Closed-loop referrals: a case's referrals, one referral with its history, a staff member's
status update; the client's consents to share; the community resource directory.

Reads are open to everyone who works on cases and are audited where they show the client's
record; who may write is the engine's rule (engine/referrals/permissions.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from sqlalchemy.orm.session import Session

from engine import access, cases, directory, referrals
from engine.errors import BadRequest, Invalid
from web import deps
from web.api import bp
from web.api.cases import CASE_ROLES
from web.api.common import int_arg, iso, json_body, require_roles, transaction, user


# ---------------------------------------------------------------- JSON shapes ------
def referral_json(referral: referrals.Referral) -> dict[str, Any]:
    return {
        "id": referral.id,
        "case_id": referral.case_id,
        "client_id": referral.client_id,
        "need": referral.need,
        "status": referral.status,
        "status_reason": referral.status_reason,
        "reason_code": referral.reason_code,
        "organization_name": referral.organization_name,
        "service_name": referral.service_name,
        "resource_id": referral.resource_id,
        "instance_id": referral.instance_id,
        "previous_referral_id": referral.previous_referral_id,
        "do_not_contact": referral.do_not_contact,
        "order_detail": referral.order_detail,
        "created_at": iso(referral.created_at),
        "requested_at": iso(referral.requested_at),
        "updated_at": iso(referral.updated_at),
        "closed_at": iso(referral.closed_at),
    }


def _referral_detail(session: Session, referral: referrals.Referral) -> dict[str, Any]:
    history = referrals.referral_history(session, referral.id)
    return {
        **referral_json(referral),
        "client": referrals.client_language(session, referral),
        "history": [
            {
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
                "reason_code": e.reason_code,
                "source": e.source,
                "actor": e.actor,
                "at": iso(e.at),
            }
            for e in history
        ],
        # In the state machine's own order, so clients can show them as they come.
        "legal_next": [s for s in referrals.STATUSES if s in referrals.legal_next(referral.status)],
    }


def consent_json(consent: referrals.Consent, now: datetime) -> dict[str, Any]:
    return {
        "id": consent.id,
        "client_id": consent.client_id,
        "recipient": consent.recipient,
        "scope": consent.scope,
        "given_at": iso(consent.given_at),
        "expires_at": iso(consent.expires_at),
        "revoked_at": iso(consent.revoked_at),
        "current": consent.is_current(now),
    }


def resource_json(resource: referrals.CommunityResource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "organization_name": resource.organization_name,
        "service_name": resource.service_name,
        "category": resource.category,
        "status": resource.status,
        "description": resource.description,
        "eligibility": resource.eligibility,
        "languages": list(resource.languages or []),
        "min_age": resource.min_age,
        "max_age": resource.max_age,
        "fees": resource.fees,
        "assured_date": iso(resource.assured_date),
        "last_verified": iso(resource.assured_date),
        "hsds_id": resource.hsds_id,
        "url": resource.url,
        "phone": resource.phone,
        "email": resource.email,
        "address": resource.address,
        "postal_code": resource.postal_code,
        "updated_at": iso(resource.updated_at),
    }


def match_json(match: directory.Match) -> dict[str, Any]:
    """A search result: the service, what the widget shows of it, and why it matched."""
    d = match.details
    return {
        **resource_json(match.resource),
        "why": match.why,
        "last_verified": iso(match.resource.assured_date),
        "distance_km": round(match.distance_km, 1) if match.distance_km is not None else None,
        "needs": sorted({match.resource.category, *d.needs}),
        "organization": {
            "id": d.organization.id,
            "name": d.organization.name,
            "website": d.organization.website,
        }
        if d.organization
        else None,
        "phones": d.phones,
        "hours": [
            {"days": s.byday.split(","), "opens_at": s.opens_at, "closes_at": s.closes_at}
            for s in d.schedules
        ],
        "service_areas": d.service_areas,
        "locations": [
            {
                "name": loc.name,
                "address": loc.address,
                "city": loc.city,
                "postal_code": loc.postal_code,
            }
            for loc in d.locations
        ],
    }


# ---------------------------------------------------------------- referrals --------
@bp.get("/cases/<int:case_id>/referrals")
def case_referrals(case_id: int) -> Any:
    require_roles(*CASE_ROLES)
    with transaction() as session:
        # The referrals are part of the client's record: reading them is a view of the case.
        cases.view_case(
            session, case_id=case_id, actor=user(), clock=deps.clock(), section="referrals"
        )
        return {
            "referrals": [referral_json(r) for r in referrals.referrals_for_case(session, case_id)]
        }


@bp.get("/referrals/<int:referral_id>")
def get_referral(referral_id: int) -> Any:
    require_roles(*CASE_ROLES)
    with transaction() as session:
        referral = referrals.view_referral(
            session, referral_id=referral_id, actor=user(), clock=deps.clock()
        )
        return {"referral": _referral_detail(session, referral)}


@bp.post("/referrals/<int:referral_id>/status")
def set_referral_status(referral_id: int) -> Any:
    body = json_body()
    status = body.get("status")
    referrals.require_can_set_status(user(), status)
    with transaction() as session:
        # Staff change a referral only on a case whose record they may read.
        case_id = referrals.get_referral(session, referral_id).case_id
        access.require_case_read(session, user=user(), case_id=case_id, now=deps.clock().now())
        results = referrals.record_status(
            session,
            referral_id=referral_id,
            status=status,  # record_status names an unknown or missing status (422)
            reason=body.get("reason"),
            reason_code=body.get("reason_code"),
            actor=user(),
            clock=deps.clock(),
            site=deps.site(),
        )
        payload = {
            "referral": _referral_detail(session, referrals.get_referral(session, referral_id)),
            "delivered": [r.instance.id for r in results],
        }
    deps.committed()
    return payload


# ---------------------------------------------------------------- consents ---------
def _expiry(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Invalid(
            "The consent needs attention.",
            code="invalid_consent",
            details=[
                {
                    "field": "expires_at",
                    "message": "Use an ISO-8601 date and time with its UTC offset.",
                }
            ],
        )
    return parsed


@bp.get("/clients/<int:client_id>/consents")
def client_consents(client_id: int) -> Any:
    require_roles(*CASE_ROLES)
    clock = deps.clock()
    with transaction() as session:
        rows = referrals.view_consents(session, client_id=client_id, actor=user(), clock=clock)
        return {"consents": [consent_json(c, clock.now()) for c in rows]}


@bp.post("/clients/<int:client_id>/consents")
def record_consent(client_id: int) -> Any:
    referrals.require_can_change_consents(user())
    body = json_body()
    options: dict[str, Any] = {"expires_at": _expiry(body.get("expires_at"))}
    if "scope" in body:
        options["scope"] = body["scope"]
    clock = deps.clock()
    with transaction() as session:
        consent = referrals.record_consent(
            session,
            client_id=client_id,
            recipient=body.get("recipient"),  # record_consent names a missing recipient (422)
            actor=user(),
            clock=clock,
            **options,
        )
        return {"consent": consent_json(consent, clock.now())}, 201


@bp.post("/consents/<int:consent_id>/revoke")
def revoke_consent(consent_id: int) -> Any:
    referrals.require_can_change_consents(user())
    clock = deps.clock()
    with transaction() as session:
        consent = referrals.revoke_consent(
            session, consent_id=consent_id, actor=user(), clock=clock
        )
        return {"consent": consent_json(consent, clock.now())}


# ---------------------------------------------------------------- directory --------
@bp.get("/resources")
def find_resources() -> Any:
    require_roles(*CASE_ROLES)
    need = request.args.get("need", "").strip() or None
    q = request.args.get("q", "").strip() or None
    if not need and not q:
        raise BadRequest(
            "Name the need or some words: /api/v1/resources?need=food.", code="missing_need"
        )
    age = int_arg("age", low=0, high=130)
    limit = int_arg("limit", default=20, low=1, high=100)
    assert limit is not None
    open_now = request.args.get("open_now", "").strip().casefold() in ("1", "true", "yes")
    clock = deps.clock()
    with transaction() as session:
        matches = directory.search(
            session,
            now=clock.now(),
            zone=deps.site().zone,
            need=need,
            postal_code=request.args.get("postal_code", "").strip() or None,
            age=age,
            language=request.args.get("language", "").strip() or None,
            open_now=open_now,
            q=q,
            limit=limit,
        )
        return {"resources": [match_json(m) for m in matches]}


@bp.post("/resources")
def save_resource() -> Any:
    referrals.require_can_edit_directory(user())
    body = json_body()
    with transaction() as session:
        resource = referrals.save_resource(session, data=body, actor=user(), clock=deps.clock())
        return {"resource": resource_json(resource)}, 201
