"""The community resource directory (Open Referral HSDS, flattened): save an entry with
field-level errors, and find the services that fit a client's need."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.clock import Clock
from engine.errors import Invalid, NotFound
from engine.referrals.models import CommunityResource
from engine.referrals.records import who

RESOURCE_STATUSES = ("active", "inactive")
# Text fields and their column lengths (description and eligibility are Text: a sane bound).
_RESOURCE_TEXT = {
    "organization_name": 200,
    "service_name": 200,
    "category": 40,
    "fees": 200,
    "phone": 40,
    "email": 200,
    "address": 300,
    "postal_code": 20,
    "description": 4000,
    "eligibility": 4000,
}
_RESOURCE_REQUIRED = ("organization_name", "service_name", "category")


def _clean_resource(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The accepted fields of `data`, or Invalid naming every field that needs attention.
    An update may leave out the required fields; a new entry may not."""
    errors: list[dict[str, str]] = []
    clean: dict[str, Any] = {}
    for name, limit in _RESOURCE_TEXT.items():
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in _RESOURCE_REQUIRED and creating:
                errors.append({"field": name, "message": "This field is required."})
            continue
        if not isinstance(value, str):
            errors.append({"field": name, "message": "Must be text."})
        elif len(value.strip()) > limit:
            errors.append({"field": name, "message": f"At most {limit} characters."})
        else:
            clean[name] = value.strip()
    for name in ("min_age", "max_age"):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 130:
            errors.append({"field": name, "message": "Must be a whole number from 0 to 130."})
        else:
            clean[name] = value
    languages = data.get("languages")
    if languages is not None:
        if not isinstance(languages, list) or not all(
            isinstance(x, str) and 0 < len(x) <= 40 for x in languages
        ):
            errors.append({"field": "languages", "message": "Must be a list of languages."})
        else:
            clean["languages"] = [x.strip() for x in languages]
    assured = data.get("assured_date")
    if assured is not None:
        try:
            clean["assured_date"] = (
                assured if isinstance(assured, date) else date.fromisoformat(str(assured))
            )
        except ValueError:
            errors.append({"field": "assured_date", "message": "Use the form YYYY-MM-DD."})
    status = data.get("status")
    if status is not None:
        if status not in RESOURCE_STATUSES:
            errors.append({"field": "status", "message": "Choose active or inactive."})
        else:
            clean["status"] = status
    if errors:
        raise Invalid(
            "Some resource details need attention.", code="invalid_resource", details=errors
        )
    return clean


def save_resource(
    session: Session,
    *,
    data: Mapping[str, Any],
    actor: User | None,
    clock: Clock,
    resource_id: int | None = None,
) -> CommunityResource:
    """Create (or, with `resource_id`, update) a directory entry. Raises Invalid per field."""
    clean = _clean_resource(data, creating=resource_id is None)
    now = clock.now()
    resource: CommunityResource | None
    if resource_id is None:
        resource = CommunityResource(created_at=now, **clean)
        session.add(resource)
    else:
        resource = session.get(CommunityResource, resource_id)
        if resource is None:
            raise NotFound("No such community resource.", code="resource_not_found")
        for name, value in clean.items():
            setattr(resource, name, value)
    resource.updated_at = now
    session.flush()
    audit.record(
        session,
        audit.AuditTag.RESOURCE_SAVED,
        actor=who(actor),
        at=now,
        category="configuration",
        details={"resource_id": resource.id},
    )
    return resource


def find_resources(
    session: Session,
    *,
    need: str,
    postal_code: str | None = None,
    age: int | None = None,
    language: str | None = None,
    limit: int = 20,
) -> list[CommunityResource]:
    """Active services for a need (CARE.md: need → category, then hard filters on age and
    language, then rank): same postal code first, then the most recently verified."""
    rows = session.scalars(
        select(CommunityResource).where(
            CommunityResource.category == need, CommunityResource.status == "active"
        )
    ).all()
    wanted = language.casefold() if language else None

    def fits(r: CommunityResource) -> bool:
        if age is not None and r.min_age is not None and age < r.min_age:
            return False
        if age is not None and r.max_age is not None and age > r.max_age:
            return False
        # A service that does not list its languages is not excluded: ask it.
        return not (wanted and r.languages and wanted not in {x.casefold() for x in r.languages})

    def rank(r: CommunityResource) -> tuple[int, int, int]:
        near = 0 if postal_code and r.postal_code == postal_code else 1
        verified = -(r.assured_date.toordinal()) if r.assured_date else 0
        return (near, verified, r.id)

    return sorted((r for r in rows if fits(r)), key=rank)[:limit]
