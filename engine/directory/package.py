"""Reading an HSDS 3.0 package into rows, one table at a time: the tabular form (a folder of
organizations.csv, services.csv, ...) or the JSON form (services, or organisations with their
services, with their related objects nested). Nothing here touches the database."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import Invalid

# Dependency order: a row may only name rows of earlier tables.
TABLES = (
    "organizations",
    "services",
    "locations",
    "addresses",
    "service_at_locations",
    "phones",
    "schedules",
    "languages",
    "service_areas",
    "taxonomy_terms",
    "attributes",
)


@dataclass(frozen=True)
class Row:
    file: str
    line: int  # CSV: the line in the file (the header is line 1); JSON: the object's index
    values: Mapping[str, Any]


@dataclass
class Package:
    tables: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.tables.values())


def read_package(path: Path) -> Package:
    """The rows of the package at `path`: a folder of CSV files, or a .json file."""
    if path.is_dir():
        return _read_csv_folder(path)
    if path.is_file() and path.suffix.casefold() == ".json":
        return _read_json(path)
    raise Invalid(
        "Give a folder of HSDS CSV files or an HSDS .json file.",
        code="invalid_directory_package",
        details=[{"field": "path", "message": f"{path} is neither."}],
    )


def _read_csv_folder(folder: Path) -> Package:
    package = Package()
    found = False
    for table in TABLES:
        file = folder / f"{table}.csv"
        if not file.is_file():
            continue
        found = True
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            for values in reader:
                clean = {
                    (k or "").strip(): (v.strip() if isinstance(v, str) else v)
                    for k, v in values.items()
                }
                package.tables[table].append(Row(file.name, reader.line_num, clean))
    if not found:
        raise Invalid(
            "No HSDS tables in that folder.",
            code="invalid_directory_package",
            details=[{"field": "path", "message": "Expected organizations.csv, services.csv…"}],
        )
    return package


def _read_json(file: Path) -> Package:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(
            "The file is not JSON.",
            code="invalid_directory_package",
            details=[{"field": "path", "message": str(exc)[:200]}],
        ) from exc
    package = Package()
    walker = _JsonWalker(file.name, package)
    if isinstance(data, list):
        for i, service in enumerate(data):
            walker.service(service, f"[{i}]", None)
    elif isinstance(data, Mapping):
        for i, org in enumerate(data.get("organizations") or []):
            walker.organization(org, f"organizations[{i}]")
        for i, service in enumerate(data.get("services") or []):
            walker.service(service, f"services[{i}]", None)
    return package


class _JsonWalker:
    """Flattens nested HSDS objects into table rows, filling in the parent's id."""

    def __init__(self, name: str, package: Package) -> None:
        self.name = name
        self.package = package
        self.count = 0

    def _add(self, table: str, obj: Any, where: str, **parent: Any) -> Mapping[str, Any]:
        self.count += 1
        values = dict(obj) if isinstance(obj, Mapping) else {}
        for key, value in parent.items():
            values.setdefault(key, value)
        flat = {k: v for k, v in values.items() if not isinstance(v, (list, Mapping))}
        self.package.tables[table].append(Row(f"{self.name}#{where}", self.count, flat))
        return values

    def _each(self, obj: Mapping[str, Any], key: str) -> Iterator[tuple[int, Any]]:
        items = obj.get(key)
        return enumerate(items) if isinstance(items, list) else iter(())

    def organization(self, org: Any, where: str) -> None:
        values = self._add("organizations", org, where)
        for i, service in self._each(values, "services"):
            self.service(service, f"{where}.services[{i}]", values.get("id"))
        for i, loc in self._each(values, "locations"):
            self.location(loc, f"{where}.locations[{i}]", values.get("id"))
        for i, phone in self._each(values, "phones"):
            self._add("phones", phone, f"{where}.phones[{i}]", organization_id=values.get("id"))

    def location(self, loc: Any, where: str, org_id: Any) -> Mapping[str, Any]:
        values = self._add("locations", loc, where, organization_id=org_id)
        for i, address in self._each(values, "addresses"):
            self._add("addresses", address, f"{where}.addresses[{i}]", location_id=values.get("id"))
        return values

    def service(self, service: Any, where: str, org_id: Any) -> None:
        values = dict(service) if isinstance(service, Mapping) else {}
        org = values.get("organization")
        if isinstance(org, Mapping):
            self.organization(org, f"{where}.organization")
            org_id = org.get("id")
        values = dict(self._add("services", values, where, organization_id=org_id))
        sid = values.get("id")
        for i, sal in self._each(values, "service_at_locations"):
            sal_values = dict(sal) if isinstance(sal, Mapping) else {}
            loc = sal_values.get("location")
            if isinstance(loc, Mapping):
                self.location(loc, f"{where}.service_at_locations[{i}].location", org_id)
                sal_values.setdefault("location_id", loc.get("id"))
            self._add("service_at_locations", sal_values, f"{where}.sal[{i}]", service_id=sid)
        for table in ("phones", "schedules", "languages", "service_areas"):
            for i, item in self._each(values, table):
                self._add(table, item, f"{where}.{table}[{i}]", service_id=sid)
        for i, attribute in self._each(values, "attributes"):
            attr = dict(attribute) if isinstance(attribute, Mapping) else {}
            term = attr.get("taxonomy_term")
            if isinstance(term, Mapping):
                self._add("taxonomy_terms", term, f"{where}.attributes[{i}].taxonomy_term")
                attr.setdefault("taxonomy_term_id", term.get("id"))
            self._add(
                "attributes",
                attr,
                f"{where}.attributes[{i}]",
                link_id=sid,
                link_type="service",
            )
