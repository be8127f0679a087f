"""Importing an HSDS 3.0 package: upsert by HSDS id, table by table, in the caller's
transaction. A row that cannot be used is refused (file, row, reason) and the rest go on; a
re-import of the same package changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.clock import Clock
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
from engine.directory.needs import NEEDS, need_of_term
from engine.directory.package import Package, Row
from engine.referrals.models import CommunityResource
from engine.referrals.records import who

UNMAPPED = "other"  # the category of a service whose terms map to none of our needs
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$")
_POSTAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
_STATUS = {
    "active": "active",
    "inactive": "inactive",
    "defunct": "inactive",
    "temporarily closed": "inactive",
}
M = TypeVar("M")


class Refused(Exception):
    """One row cannot be used; the message is the reason in the report."""


@dataclass(frozen=True)
class Refusal:
    file: str
    row: int
    reason: str


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)

    def count(self, table: str, *, new: bool) -> None:
        bucket = self.created if new else self.updated
        bucket[table] = bucket.get(table, 0) + 1


def _text(row: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str | None:
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Refused(f"{name} is required")
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise Refused(f"{name} is longer than {limit} characters")
    return text


def _age(row: Mapping[str, Any], name: str) -> int | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    try:
        age = int(str(value).strip())
    except ValueError:
        raise Refused(f"{name} must be a whole number") from None
    if not 0 <= age <= 130:
        raise Refused(f"{name} must be from 0 to 130")
    return age


def _float(row: Mapping[str, Any], name: str, bound: float) -> float | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Refused(f"{name} must be a number") from None
    if not -bound <= number <= bound:
        raise Refused(f"{name} is out of range")
    return number


def _time(row: Mapping[str, Any], name: str) -> str:
    value = _text(row, name, 8, required=True)
    assert value is not None
    if not _TIME.match(value):
        raise Refused(f"{name} must be a time HH:MM")
    return value[:5]


class _Importer:
    def __init__(self, session: Session, report: ImportReport) -> None:
        self.session = session
        self.report = report
        self.touched: set[int] = set()
        self.spoken: dict[int, list[str]] = {}

    def _upsert(self, model: type[M], table: str, hsds_id: str) -> M:
        row = self.session.scalar(select(model).where(model.hsds_id == hsds_id))  # type: ignore[attr-defined]
        if row is None:
            row = model(hsds_id=hsds_id)  # type: ignore[call-arg]
            self.session.add(row)
            self.report.count(table, new=True)
        else:
            self.report.count(table, new=False)
        return row

    def _ref(
        self, model: type[M], row: Mapping[str, Any], name: str, *, required: bool
    ) -> M | None:
        ref = _text(row, name, 100, required=required)
        if ref is None:
            return None
        found = self.session.scalar(select(model).where(model.hsds_id == ref))  # type: ignore[attr-defined]
        if found is None:
            raise Refused(f"{name} {ref} names no row of this directory")
        return found

    # ---------------------------------------------------------------- tables ----
    def organizations(self, row: Mapping[str, Any]) -> None:
        hsds_id = _text(row, "id", 100, required=True)
        name = _text(row, "name", 200, required=True)
        fields = {
            "description": _text(row, "description", 4000),
            "email": _text(row, "email", 200),
            "website": _text(row, "website", 300),
            "webhook_url": _text(row, "webhook_url", 300),
        }
        if fields["webhook_url"] and not str(fields["webhook_url"]).startswith("https://"):
            raise Refused("webhook_url must be an https:// address")
        assert hsds_id is not None
        org = self._upsert(Organization, "organizations", hsds_id)
        org.name = name  # type: ignore[assignment]
        for key, value in fields.items():
            setattr(org, key, value)
        self.session.flush()
        for service in self.session.scalars(
            select(CommunityResource).where(CommunityResource.organization_id == org.id)
        ):
            service.organization_name = org.name

    def services(self, row: Mapping[str, Any]) -> None:
        hsds_id = _text(row, "id", 100, required=True)
        org = self._ref(Organization, row, "organization_id", required=True)
        name = _text(row, "name", 200, required=True)
        status_text = (_text(row, "status", 40) or "active").casefold()
        if status_text not in _STATUS:
            raise Refused(f"status {status_text!r} is not an HSDS service status")
        min_age, max_age = _age(row, "minimum_age"), _age(row, "maximum_age")
        if min_age is not None and max_age is not None and min_age > max_age:
            raise Refused("minimum_age is above maximum_age")
        assured = _text(row, "assured_date", 40)
        try:
            assured_date = date.fromisoformat(assured[:10]) if assured else None
        except ValueError:
            raise Refused("assured_date must be a date YYYY-MM-DD") from None
        fields = {
            "service_name": name,
            "status": _STATUS[status_text],
            "description": _text(row, "description", 4000),
            "eligibility": _text(row, "eligibility_description", 4000),
            "fees": _text(row, "fees_description", 200) or _text(row, "fees", 200),
            "email": _text(row, "email", 200),
            "url": _text(row, "url", 300),
            "min_age": min_age,
            "max_age": max_age,
            "assured_date": assured_date,
        }
        assert hsds_id is not None
        assert org is not None
        service = self._upsert(CommunityResource, "services", hsds_id)
        if service.category is None:
            service.category = UNMAPPED
        if service.languages is None:
            service.languages = []
        service.organization_id = org.id
        service.organization_name = org.name
        for key, value in fields.items():
            setattr(service, key, value)
        self.session.flush()
        self.touched.add(service.id)

    def locations(self, row: Mapping[str, Any]) -> None:
        hsds_id = _text(row, "id", 100, required=True)
        org = self._ref(Organization, row, "organization_id", required=False)
        fields = {
            "name": _text(row, "name", 200),
            "latitude": _float(row, "latitude", 90),
            "longitude": _float(row, "longitude", 180),
            "organization_id": org.id if org else None,
        }
        assert hsds_id is not None
        location = self._upsert(Location, "locations", hsds_id)
        for key, value in fields.items():
            setattr(location, key, value)

    def addresses(self, row: Mapping[str, Any]) -> None:
        location = self._ref(Location, row, "location_id", required=True)
        assert location is not None
        street = " ".join(
            x for x in (_text(row, "address_1", 150), _text(row, "address_2", 150)) if x
        )
        postal = _text(row, "postal_code", 20)
        if postal and not _POSTAL.match(postal):
            raise Refused(f"postal_code {postal!r} is not a postal code")
        location.address = street or None
        location.city = _text(row, "city", 100)
        location.postal_code = postal
        self.report.count("addresses", new=False)

    def service_at_locations(self, row: Mapping[str, Any]) -> None:
        service = self._ref(CommunityResource, row, "service_id", required=True)
        location = self._ref(Location, row, "location_id", required=True)
        assert service is not None
        assert location is not None
        hsds_id = _text(row, "id", 100) or f"{service.hsds_id}@{location.hsds_id}"
        link = self.session.scalar(
            select(ServiceAtLocation).where(
                ServiceAtLocation.service_id == service.id,
                ServiceAtLocation.location_id == location.id,
            )
        )
        if link is None:
            link = self._upsert(ServiceAtLocation, "service_at_locations", hsds_id)
        else:
            self.report.count("service_at_locations", new=False)
        link.service_id, link.location_id = service.id, location.id
        self.touched.add(service.id)

    def _service_of(self, row: Mapping[str, Any]) -> CommunityResource | None:
        service = self._ref(CommunityResource, row, "service_id", required=False)
        if service is None and row.get("service_at_location_id"):
            link = self._ref(ServiceAtLocation, row, "service_at_location_id", required=True)
            assert link is not None
            service = self.session.get(CommunityResource, link.service_id)
        return service

    def phones(self, row: Mapping[str, Any]) -> None:
        hsds_id = _text(row, "id", 100, required=True)
        number = _text(row, "number", 40, required=True)
        service = self._service_of(row)
        org = self._ref(Organization, row, "organization_id", required=False)
        location = self._ref(Location, row, "location_id", required=False)
        if not (service or org or location):
            raise Refused("a phone must belong to a service, organization or location")
        assert hsds_id is not None
        phone = self._upsert(Phone, "phones", hsds_id)
        phone.number = number  # type: ignore[assignment]
        phone.type = _text(row, "type", 20)
        phone.service_id = service.id if service else None
        phone.organization_id = org.id if org else None
        phone.location_id = location.id if location else None
        if service:
            self.touched.add(service.id)

    def schedules(self, row: Mapping[str, Any]) -> None:
        hsds_id = _text(row, "id", 100, required=True)
        service = self._service_of(row)
        location = self._ref(Location, row, "location_id", required=False)
        if not (service or location):
            raise Refused("a schedule must belong to a service or location")
        freq = (_text(row, "freq", 10) or "WEEKLY").upper()
        if freq != "WEEKLY":
            raise Refused("only weekly (freq=WEEKLY) regular hours are used")
        days = [d.strip().upper() for d in (_text(row, "byday", 40) or "").split(",") if d.strip()]
        if not days or any(d not in DAYS for d in days):
            raise Refused("byday must list days as MO,TU,WE,TH,FR,SA,SU")
        opens, closes = _time(row, "opens_at"), _time(row, "closes_at")
        if closes <= opens:
            raise Refused("closes_at must be after opens_at")
        assert hsds_id is not None
        schedule = self._upsert(Schedule, "schedules", hsds_id)
        schedule.service_id = service.id if service else None
        schedule.location_id = location.id if location else None
        schedule.byday, schedule.opens_at, schedule.closes_at = ",".join(days), opens, closes
        schedule.description = _text(row, "description", 4000)

    def languages(self, row: Mapping[str, Any]) -> None:
        service = self._ref(CommunityResource, row, "service_id", required=True)
        name = _text(row, "name", 40) or _text(row, "code", 40)
        if not name:
            raise Refused("a language needs a name or code")
        assert service is not None
        listed = self.spoken.setdefault(service.id, [])
        if name.casefold() not in {x.casefold() for x in listed}:
            listed.append(name)
        self.report.count("languages", new=False)

    def service_areas(self, row: Mapping[str, Any]) -> None:
        service = self._service_of(row)
        if service is None:
            raise Refused("service_id is required")
        # HSDS names the area in free text; CareBridge matches postal codes, listed in
        # `extent` (extent_type postal_codes) or, failing that, in `name`.
        text = _text(row, "extent", 4000) if row.get("extent_type") == "postal_codes" else None
        text = text or _text(row, "name", 400) or ""
        codes = [c for c in re.split(r"[,;\s]+", text) if c]
        if not codes or not all(_POSTAL.match(c) and any(ch.isdigit() for ch in c) for c in codes):
            raise Refused("the service area must list postal codes")
        existing = set(
            self.session.scalars(
                select(ServiceArea.postal_code).where(ServiceArea.service_id == service.id)
            )
        )
        for code in codes:
            if code not in existing:
                existing.add(code)
                self.session.add(
                    ServiceArea(service_id=service.id, postal_code=code, hsds_id=row.get("id"))
                )
                self.report.count("service_areas", new=True)

    def taxonomy_terms(self, row: Mapping[str, Any]) -> None:
        hsds_id = _text(row, "id", 100, required=True)
        name = _text(row, "name", 200, required=True)
        code = _text(row, "code", 100)
        assert hsds_id is not None
        term = self._upsert(TaxonomyTerm, "taxonomy_terms", hsds_id)
        term.name, term.code = name, code  # type: ignore[assignment]
        term.taxonomy = _text(row, "taxonomy", 100)
        term.need = need_of_term(code, name)

    def attributes(self, row: Mapping[str, Any]) -> None:
        if (row.get("link_type") or row.get("link_entity") or "service") != "service":
            return  # CareBridge matches on service terms only
        service = self._ref(CommunityResource, {"id": row.get("link_id")}, "id", required=True)
        term = self._ref(TaxonomyTerm, row, "taxonomy_term_id", required=True)
        assert service is not None
        assert term is not None
        exists = self.session.scalar(
            select(ServiceTaxonomy.id).where(
                ServiceTaxonomy.service_id == service.id, ServiceTaxonomy.term_id == term.id
            )
        )
        if exists is None:
            self.session.add(ServiceTaxonomy(service_id=service.id, term_id=term.id))
        self.report.count("attributes", new=exists is None)
        self.touched.add(service.id)

    # ---------------------------------------------------------------- finish ----
    def finish(self) -> None:
        """Languages as listed, the service's need from its terms, and the primary address
        and phone the referral screens show."""
        self.session.flush()
        for service_id, names in self.spoken.items():
            service = self.session.get(CommunityResource, service_id)
            if service is not None:
                service.languages = names
        for service_id in self.touched:
            service = self.session.get(CommunityResource, service_id)
            assert service is not None
            # The service's need is its first mapped term's (the primary one, listed first).
            primary = self.session.scalar(
                select(TaxonomyTerm.need)
                .join(ServiceTaxonomy, ServiceTaxonomy.term_id == TaxonomyTerm.id)
                .where(ServiceTaxonomy.service_id == service_id, TaxonomyTerm.need.in_(NEEDS))
                .order_by(ServiceTaxonomy.id)
                .limit(1)
            )
            if primary:
                service.category = primary
            location = self.session.scalar(
                select(Location)
                .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
                .where(ServiceAtLocation.service_id == service_id)
                .order_by(ServiceAtLocation.id)
                .limit(1)
            )
            if location is not None:
                service.address = location.address
                service.postal_code = location.postal_code
            phone = self.session.scalar(
                select(Phone.number).where(Phone.service_id == service_id).order_by(Phone.id)
            )
            if phone:
                service.phone = phone


def import_package(
    session: Session,
    *,
    package: Package,
    clock: Clock,
    actor: User | None = None,
    progress: Callable[[Row], None] | None = None,
) -> ImportReport:
    """Upsert every usable row of `package`; the report counts rows by table and lists the
    refused ones. Each row runs in a savepoint, so a refused row leaves nothing behind."""
    report = ImportReport()
    importer = _Importer(session, report)
    for table, rows in package.tables.items():
        handler: Callable[[Mapping[str, Any]], None] = getattr(importer, table)
        for row in rows:
            savepoint = session.begin_nested()
            try:
                handler(row.values)
                session.flush()
            except Refused as exc:
                savepoint.rollback()
                report.refused.append(Refusal(row.file, row.line, str(exc)))
            else:
                savepoint.commit()
            if progress is not None:
                progress(row)
    importer.finish()
    session.flush()
    audit.record(
        session,
        audit.AuditTag.RESOURCE_SAVED,
        actor=who(actor),
        at=clock.now(),
        category="configuration",
        details={
            "import": True,
            "created": report.created,
            "updated": report.updated,
            "refused": len(report.refused),
        },
    )
    return report
