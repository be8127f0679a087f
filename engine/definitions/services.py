"""Deploying BPMN definitions: validate all, store a new version only when content changed."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from engine import audit
from engine.definitions.models import ProcessCurrentVersion, ProcessDefinition
from engine.errors import NotFound
from engine.forms import expand_instruments
from engine.instances.models import ProcessInstance
from engine.workflow import parsing

DIAGRAM_SUFFIXES = (".bpmn", ".dmn")


@dataclass(frozen=True)
class DeployResult:
    definition: ProcessDefinition
    created: bool
    warnings: list[dict[str, Any]]


def read_diagrams(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.suffix in DIAGRAM_SUFFIXES
    }


def read_forms(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.json"))}


def _answers_schema_loader(instruments_dir: Path | None) -> Any:
    from engine import instruments  # local: instruments is optional for plain diagrams

    return lambda key: instruments.answers_schema(key, instruments_dir=instruments_dir)


def deploy(
    session: Session,
    files: Mapping[str, bytes],
    *,
    library: Mapping[str, bytes] | None = None,
    forms: Mapping[str, bytes] | None = None,
    instruments_dir: Path | None = None,
    actor: audit.Actor = audit.SYSTEM,
    now: datetime,
    comment: str | None = None,
) -> list[DeployResult]:
    """Validate `files` (raises parsing.DeploymentInvalid naming file, element and line; nothing
    is stored then) and store version N+1 of each process whose content changed."""
    bundles = parsing.prepare(files, library=library or {}, forms=forms or {})
    expand = _answers_schema_loader(instruments_dir)
    results = []
    for bundle in bundles:
        expanded_forms = {
            name: expand_instruments(schema, expand) for name, schema in bundle.forms.items()
        }
        latest = latest_definition(session, bundle.process_id, missing_ok=True)
        if latest is not None and latest.sha256 == bundle.sha256:
            results.append(DeployResult(latest, False, [w.as_dict() for w in bundle.warnings]))
            continue
        main_file = next(name for name in bundle.files if name in files)
        definition = ProcessDefinition(
            process_key=bundle.process_id,
            name=bundle.name or bundle.process_id,
            version=(latest.version + 1) if latest else 1,
            main_file=main_file,
            bpmn_xml=bundle.files[main_file],
            files=dict(bundle.files),
            forms=expanded_forms,
            sha256=bundle.sha256,
            deployed_at=now,
            deployed_by_id=actor.id,
            comment=comment or None,
        )
        session.add(definition)
        # A new version is the one new cases start on, whatever an earlier rollback chose.
        pinned = session.get(ProcessCurrentVersion, bundle.process_id)
        if pinned is not None:
            session.delete(pinned)
        session.flush()
        audit.record(
            session,
            audit.AuditTag.DEFINITION_DEPLOYED,
            actor=actor,
            at=now,
            category="configuration",
            details={
                "definition_id": definition.id,
                "process": definition.process_key,
                "version": definition.version,
                "comment": bool(comment),
            },
        )
        results.append(DeployResult(definition, True, [w.as_dict() for w in bundle.warnings]))
    return results


def deploy_directory(
    session: Session,
    processes_dir: Path,
    forms_dir: Path,
    *,
    actor: audit.Actor = audit.SYSTEM,
    now: datetime,
) -> list[DeployResult]:
    diagrams = read_diagrams(processes_dir)
    return deploy(
        session,
        diagrams,
        library=diagrams,
        forms=read_forms(forms_dir),
        instruments_dir=forms_dir / "instruments",
        actor=actor,
        now=now,
    )


def latest_definition(
    session: Session, process_key: str, *, missing_ok: bool = False
) -> ProcessDefinition | None:
    row = session.scalar(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_key == process_key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    if row is None and not missing_ok:
        raise NotFound(
            f"No pathway named {process_key!r} is deployed.", code="definition_not_found"
        )
    return row


def get_definition(session: Session, definition_id: int) -> ProcessDefinition:
    row = session.get(ProcessDefinition, definition_id)
    if row is None:
        raise NotFound("No such process definition.", code="definition_not_found")
    return row


@dataclass(frozen=True)
class DefinitionSummary:
    definition: ProcessDefinition
    running_instances: int


def list_definitions(session: Session) -> list[DefinitionSummary]:
    counts: dict[int, int] = {
        definition_id: running
        for definition_id, running in session.execute(
            select(ProcessInstance.definition_id, func.count())
            .where(ProcessInstance.status.not_in(("completed", "cancelled")))
            .group_by(ProcessInstance.definition_id)
        )
    }
    rows = session.scalars(
        select(ProcessDefinition).order_by(
            ProcessDefinition.process_key, ProcessDefinition.version.desc()
        )
    )
    return [DefinitionSummary(d, counts.get(d.id, 0)) for d in rows]


_SPECS: dict[tuple[str, str], tuple[Any, Any]] = {}


def specs_for(definition: ProcessDefinition) -> tuple[Any, Any]:
    """Parsed once per content hash, so loading an instance costs no parse. Keyed here by the
    stored sha so a hot path does not even re-hash the XML."""
    key = (definition.sha256, definition.process_key)
    specs = _SPECS.get(key)
    if specs is None:
        specs = _SPECS[key] = parsing.load_specs(definition.files, definition.process_key)
    return specs


# A definition row never changes after deploy, and its large columns (the XML twice over and the
# expanded forms) cost more to read and JSON-decode than the rest of a command's queries
# together. So each process keeps a detached copy per database, keyed by id *and* sha256 (an id
# reused after a rollback comes back with another digest and misses), and merges it into a
# session without SQL. The copies' JSON values are shared: nothing may mutate them.
_TEMPLATES: weakref.WeakKeyDictionary[Engine, dict[tuple[int, str], ProcessDefinition]] = (
    weakref.WeakKeyDictionary()
)
_DIGEST = select(ProcessDefinition.sha256).where(ProcessDefinition.id == bindparam("id"))


_PINNED = (
    select(ProcessCurrentVersion.definition_id)
    .where(ProcessCurrentVersion.process_key == bindparam("key"))
    .scalar_subquery()
)
_NEWEST = (
    select(ProcessDefinition.id)
    .where(ProcessDefinition.process_key == bindparam("key"))
    .order_by(ProcessDefinition.version.desc())
    .limit(1)
    .scalar_subquery()
)
# The pinned version (a rollback) when there is one, else the newest: one round trip.
_LATEST = select(ProcessDefinition.id, ProcessDefinition.sha256).where(
    ProcessDefinition.id == func.coalesce(_PINNED, _NEWEST)
)


def current_definition(session: Session, process_key: str) -> ProcessDefinition:
    """The version new cases of a process start on: the one made current by a rollback, else
    the latest. Its large columns come from the cache."""
    found = session.execute(_LATEST, {"key": process_key}).one_or_none()
    if found is None:
        raise NotFound(
            f"No pathway named {process_key!r} is deployed.", code="definition_not_found"
        )
    return definition_for(session, found.id, found.sha256)


def definition_for(
    session: Session, definition_id: int, sha256: str | None = None
) -> ProcessDefinition:
    """The definition row in this session, from the process-wide cache when possible (pass the
    row's sha256 when already known, e.g. read with the instance, to skip the query)."""
    present = session.identity_map.get(identity_key(ProcessDefinition, definition_id))
    if present is not None:
        return present
    if sha256 is None:
        sha256 = session.scalar(_DIGEST, {"id": definition_id})
        if sha256 is None:
            raise NotFound("No such process definition.", code="definition_not_found")
    templates = _TEMPLATES.setdefault(session.get_bind().engine, {})
    template = templates.get((definition_id, sha256))
    if template is not None:
        return session.merge(template, load=False)
    row = get_definition(session, definition_id)
    if row.sha256 == sha256:
        copy = ProcessDefinition(
            **{a.key: getattr(row, a.key) for a in ProcessDefinition.__mapper__.column_attrs}
        )
        make_transient_to_detached(copy)
        templates[(definition_id, sha256)] = copy
    return row
