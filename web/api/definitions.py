"""Process definitions: list the deployed versions, deploy new ones (admins), download XML."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from flask import Response, request

from engine import definitions
from engine.definitions import studio
from engine.errors import BadRequest
from engine.instances import actor_of
from engine.workflow.parsing import DeploymentInvalid, Problem
from web import deps
from web.api import bp
from web.api.common import iso, require_roles, transaction, user

DIAGRAM_SUFFIXES = (".bpmn", ".dmn")


def definition_json(summary: definitions.DefinitionSummary) -> dict[str, Any]:
    d = summary.definition
    return {
        "id": d.id,
        "process_key": d.process_key,
        "name": d.name,
        "version": d.version,
        "sha256": d.sha256,
        "deployed_at": iso(d.deployed_at),
        "running_instances": summary.running_instances,
        "comment": d.comment,
    }


@bp.get("/process-definitions")
def list_definitions() -> Any:
    with transaction() as session:
        rows = definitions.list_definitions(session)
        current = studio.current_ids(session)
        return {
            "definitions": [
                {**definition_json(r), "current": r.definition.id in current} for r in rows
            ]
        }


def _uploads(field: str) -> dict[str, bytes]:
    """Uploaded files by base name (the names diagrams use to reference forms and each other;
    they only key a dict, never touch the file system)."""
    if request.form.getlist(field):
        # A plain form field where a file belongs (its name would be lost): refused, not ignored.
        raise BadRequest(f"Send '{field}' as file uploads.", code="not_a_file")
    out: dict[str, bytes] = {}
    for storage in request.files.getlist(field):
        name = PurePosixPath((storage.filename or "").replace("\\", "/")).name
        if not name:
            raise BadRequest(f"Every '{field}' upload needs a file name.", code="missing_filename")
        out[name] = storage.read()
    return out


def _check_names(files: dict[str, bytes], forms: dict[str, bytes]) -> None:
    problems = [
        Problem(name, None, None, "Only .bpmn and .dmn files can be deployed as diagrams.")
        for name in files
        if not name.endswith(DIAGRAM_SUFFIXES)
    ]
    problems += [
        Problem(name, None, None, "Forms must be JSON files (.json).")
        for name in forms
        if not name.endswith(".json")
    ]
    if problems:
        raise DeploymentInvalid(problems)


def _deployed_library(summaries: Iterable[definitions.DefinitionSummary]) -> dict[str, bytes]:
    """The diagram files of each process's latest version, so an upload may call processes
    that are already deployed. A file's own definition wins over copies bundled elsewhere."""
    latest: dict[str, definitions.ProcessDefinition] = {}
    for s in summaries:
        current = latest.get(s.definition.process_key)
        if current is None or s.definition.version > current.version:
            latest[s.definition.process_key] = s.definition
    library: dict[str, str] = {}
    for d in latest.values():
        for name, xml in d.files.items():
            library.setdefault(name, xml)
    for d in latest.values():
        library[d.main_file] = d.bpmn_xml
    return {name: xml.encode() for name, xml in library.items()}


def uploaded_diagrams() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The multipart `bpmn` and `forms` uploads of a deploy (or validate) request."""
    files = _uploads("bpmn")
    forms = _uploads("forms")
    if not files:
        raise BadRequest(
            "Upload one or more diagrams as multipart 'bpmn' files.", code="missing_bpmn"
        )
    _check_names(files, forms)
    return files, forms


def shipped_forms() -> dict[str, bytes]:
    settings = deps.deps().settings
    return definitions.read_forms(settings.forms_dir) if settings.forms_dir.is_dir() else {}


def deployed_library(session: Any) -> dict[str, bytes]:
    return _deployed_library(definitions.list_definitions(session))


@bp.post("/process-definitions")
def deploy_definitions() -> Any:
    require_roles(*studio.DESIGNER_ROLES)
    files, forms = uploaded_diagrams()
    settings = deps.deps().settings
    comment = (request.form.get("comment") or "").strip() or None
    with transaction() as session:
        library = deployed_library(session)
        results = definitions.deploy(
            session,
            files,
            library={**library, **files},
            forms={**shipped_forms(), **forms},
            instruments_dir=settings.forms_dir / "instruments",
            actor=actor_of(user()),
            now=deps.clock().now(),
            comment=comment,
        )
        running = {
            s.definition.id: s.running_instances for s in definitions.list_definitions(session)
        }
        body = {
            "definitions": [
                definition_json(
                    definitions.DefinitionSummary(r.definition, running.get(r.definition.id, 0))
                )
                for r in results
            ],
            "created": [r.definition.process_key for r in results if r.created],
            "warnings": [w for r in results for w in r.warnings],
        }
    return body, 201 if body["created"] else 200


@bp.get("/process-definitions/<int:definition_id>/xml")
def definition_xml(definition_id: int) -> Any:
    with transaction() as session:
        d = definitions.get_definition(session, definition_id)
        # Process ids are NCNames, which may be non-ASCII: keep the header plain ASCII.
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", d.process_key)
        xml, filename = d.bpmn_xml, f"{stem}-v{d.version}.bpmn"
    return Response(
        xml,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
