"""Finding services for a client: hard filters (need, age, language, open now, text), then
rank by need match, service area, distance between postal-code centroids, language, and the
most recently verified. Each result says why it matched."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.directory.centroids import centroid, distance_km
from engine.directory.importer import DAYS
from engine.directory.models import (
    Location,
    Organization,
    Phone,
    Schedule,
    ServiceArea,
    ServiceAtLocation,
    ServiceTaxonomy,
    TaxonomyTerm,
)
from engine.directory.needs import canonical
from engine.errors import Invalid
from engine.referrals.models import CommunityResource


@dataclass
class Details:
    """What the search widget shows of a service besides its own row."""

    organization: Organization | None
    locations: list[Location] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    service_areas: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)


@dataclass
class Match:
    resource: CommunityResource
    details: Details
    why: list[str]
    distance_km: float | None
    rank: tuple[float, ...]


def details_for(session: Session, ids: Iterable[int]) -> dict[int, Details]:
    ids = list(ids)
    out = {i: Details(organization=None) for i in ids}
    if not ids:
        return out
    for service_id, org in session.execute(
        select(CommunityResource.id, Organization)
        .join(Organization, Organization.id == CommunityResource.organization_id)
        .where(CommunityResource.id.in_(ids))
    ).tuples():
        out[service_id].organization = org
    for service_id, location in session.execute(
        select(ServiceAtLocation.service_id, Location)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id.in_(ids))
        .order_by(ServiceAtLocation.id)
    ).tuples():
        out[service_id].locations.append(location)
    for phone in session.scalars(select(Phone).where(Phone.service_id.in_(ids)).order_by(Phone.id)):
        assert phone.service_id is not None
        out[phone.service_id].phones.append(phone.number)
    for schedule in session.scalars(
        select(Schedule).where(Schedule.service_id.in_(ids)).order_by(Schedule.id)
    ):
        assert schedule.service_id is not None
        out[schedule.service_id].schedules.append(schedule)
    for area in session.scalars(
        select(ServiceArea).where(ServiceArea.service_id.in_(ids)).order_by(ServiceArea.id)
    ):
        out[area.service_id].service_areas.append(area.postal_code)
    for service_id, need in session.execute(
        select(ServiceTaxonomy.service_id, TaxonomyTerm.need)
        .join(TaxonomyTerm, TaxonomyTerm.id == ServiceTaxonomy.term_id)
        .where(ServiceTaxonomy.service_id.in_(ids), TaxonomyTerm.need.is_not(None))
    ).tuples():
        if need and need not in out[service_id].needs:
            out[service_id].needs.append(need)
    return out


def open_at(schedules: Iterable[Schedule], local: datetime) -> Schedule | None:
    """The schedule that has the service open at the local time `local`, if any."""
    day = DAYS[local.weekday()]
    hhmm = local.strftime("%H:%M")
    for schedule in schedules:
        if day in schedule.byday.split(",") and schedule.opens_at <= hhmm < schedule.closes_at:
            return schedule
    return None


def _age_ok(resource: CommunityResource, age: int | None) -> bool:
    if age is None:
        return True
    if resource.min_age is not None and age < resource.min_age:
        return False
    return not (resource.max_age is not None and age > resource.max_age)


def _text_ok(resource: CommunityResource, q: str | None) -> bool:
    if not q:
        return True
    haystack = " ".join(
        x or ""
        for x in (
            resource.organization_name,
            resource.service_name,
            resource.description,
            resource.eligibility,
        )
    ).casefold()
    return all(word in haystack for word in q.casefold().split())


def search(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    need: str | None = None,
    postal_code: str | None = None,
    age: int | None = None,
    language: str | None = None,
    open_now: bool = False,
    q: str | None = None,
    limit: int = 20,
) -> list[Match]:
    wanted_need = canonical(need) if need else None
    if need and wanted_need is None:
        raise Invalid(
            "Unknown need.",
            code="invalid_need",
            details=[{"field": "need", "message": "Not a CareBridge need."}],
        )
    rows = session.scalars(
        select(CommunityResource).where(CommunityResource.status == "active")
    ).all()
    rows = [r for r in rows if _age_ok(r, age) and _text_ok(r, q)]
    info = details_for(session, (r.id for r in rows))
    home = centroid(postal_code)
    local = now.astimezone(zone)
    wanted_lang = language.strip().casefold() if language else None
    matches: list[Match] = []
    for resource in rows:
        d = info[resource.id]
        why: list[str] = []
        need_rank = 0
        if wanted_need:
            if resource.category == wanted_need:
                why.append(f"meets the need {wanted_need}")
            elif wanted_need in d.needs:
                need_rank = 1
                why.append(f"also meets the need {wanted_need}")
            else:
                continue
        if q:
            why.append(f"matches “{q}”")
        if age is not None and (resource.min_age is not None or resource.max_age is not None):
            why.append(
                f"age {age} is within {resource.min_age or 0}–"
                f"{resource.max_age if resource.max_age is not None else 'any'}"
            )
        lang_rank = 1
        if wanted_lang:
            spoken = {x.casefold() for x in resource.languages or []}
            if spoken and wanted_lang not in spoken:
                continue
            if wanted_lang in spoken:
                lang_rank = 0
                why.append(f"speaks {language}")
        if open_now:
            hours = open_at(d.schedules, local)
            if hours is None:
                continue
            why.append(f"open now (until {hours.closes_at})")
        area_rank = 1
        # A service entered by hand (POST /resources) has no areas: its own postal code is.
        areas = d.service_areas or ([resource.postal_code] if resource.postal_code else [])
        if postal_code and postal_code.strip() in areas:
            area_rank = 0
            why.append(f"serves postal code {postal_code.strip()}")
        distance = _distance(home, d, resource)
        if distance is not None:
            why.append(f"about {distance:.1f} km away")
        verified = -resource.assured_date.toordinal() if resource.assured_date else 0
        rank = (
            need_rank,
            area_rank,
            distance if distance is not None else math.inf,
            lang_rank,
            verified,
            resource.id,
        )
        matches.append(Match(resource, d, why, distance, rank))
    matches.sort(key=lambda m: m.rank)
    return matches[:limit]


def _distance(
    home: tuple[float, float] | None, d: Details, resource: CommunityResource
) -> float | None:
    if home is None:
        return None
    point: tuple[float, float] | None
    if not d.locations:
        point = centroid(resource.postal_code)
        return distance_km(home, point) if point else None
    best: float | None = None
    for location in d.locations:
        if location.latitude is not None and location.longitude is not None:
            point = (location.latitude, location.longitude)
        else:
            point = centroid(location.postal_code)
        if point is not None:
            km = distance_km(home, point)
            best = km if best is None else min(best, km)
    return best


def last_verified(resource: CommunityResource) -> date | None:
    return resource.assured_date
