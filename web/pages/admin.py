"""Administration of process definitions: versions, running instances, upload, download."""

from __future__ import annotations

from itertools import groupby
from typing import Any
from urllib.parse import quote

from flask import Response, flash, g, redirect, render_template, request, url_for

from engine import definitions, pages_view, tasks_view
from engine.definitions.services import read_diagrams, read_forms
from engine.instances import actor_of
from engine.workflow.parsing import DeploymentInvalid
from web import deps
from web.auth import login_required, require_roles
from web.pages import bp

DIAGRAM_SUFFIXES = (".bpmn", ".dmn")
MAX_FILES = 20


def _listing() -> tuple[list[dict[str, Any]], dict[int, str]]:
    with deps.transaction() as session:
        rows = definitions.list_definitions(session)
        names = tasks_view.usernames(
            session, [r.definition.deployed_by_id for r in rows], display=True
        )
    grouped = []
    for key, group in groupby(rows, key=lambda r: r.definition.process_key):
        versions = list(group)
        grouped.append(
            {
                "key": key,
                "name": versions[0].definition.name,
                "versions": versions,
                "running": sum(v.running_instances for v in versions),
            }
        )
    return grouped, names


def _uploads(field: str, suffixes: tuple[str, ...]) -> tuple[dict[str, bytes], list[str]]:
    files: dict[str, bytes] = {}
    refused: list[str] = []
    for upload in request.files.getlist(field)[:MAX_FILES]:
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name:
            continue
        if not name.lower().endswith(suffixes):
            refused.append(name)
            continue
        files[name] = upload.read()
    return files, refused


def _process_ids(name: str, data: bytes) -> set[str]:
    try:
        return set(pages_view.outlines({name: data.decode("utf-8-sig")}))
    except UnicodeDecodeError:
        return set()


def _library(shipped: dict[str, bytes], uploaded: dict[str, bytes]) -> dict[str, bytes]:
    """The shipped diagrams a call activity may need, minus any that define a process the
    upload redefines (under whatever file name it was saved), plus the upload."""
    redefined = set().union(*(_process_ids(n, d) for n, d in uploaded.items()))
    kept = {
        name: data
        for name, data in shipped.items()
        if name not in uploaded and not (_process_ids(name, data) & redefined)
    }
    return {**kept, **uploaded}


@bp.get("/admin/processes")
@login_required
@require_roles("admin")
def processes() -> str:
    listing, names = _listing()
    return render_template(
        "pages/admin_processes.html", processes=listing, names=names, problems=None
    )


@bp.post("/admin/processes")
@login_required
@require_roles("admin")
def deploy() -> Any:
    diagrams, refused = _uploads("bpmn", DIAGRAM_SUFFIXES)
    forms, refused_forms = _uploads("forms", (".json",))
    if refused or refused_forms or not diagrams:
        message = (
            "Choose at least one .bpmn or .dmn file."
            if not diagrams and not refused
            else "Only .bpmn/.dmn diagrams and .json forms can be uploaded: "
            + ", ".join(refused + refused_forms)
        )
        flash(message, "error")
        return redirect(url_for("pages.processes"))
    settings = deps.deps().settings
    # Call activities and forms not in the upload come from the shipped folders, as with
    # `carebridge deploy`.
    library = _library(read_diagrams(settings.processes_dir), diagrams)
    all_forms = {**read_forms(settings.forms_dir), **forms}
    try:
        with deps.transaction() as session:
            results = definitions.deploy(
                session,
                diagrams,
                library=library,
                forms=all_forms,
                instruments_dir=settings.forms_dir / "instruments",
                actor=actor_of(g.user),
                now=deps.clock().now(),
            )
            outcome = [
                (r.definition.process_key, r.definition.version, r.created, len(r.warnings))
                for r in results
            ]
    except DeploymentInvalid as exc:
        return _invalid(exc, diagrams)
    for key, version, created, warnings in outcome:
        if created:
            note = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
            flash(f"{key}: version {version} deployed{note}.", "notice")
        else:
            flash(f"{key}: unchanged, identical to version {version}.", "notice")
    return redirect(url_for("pages.processes"))


def _invalid(exc: DeploymentInvalid, diagrams: dict[str, bytes]) -> tuple[str, int]:
    """The problems, and each uploaded diagram drawn with its failing elements marked."""
    problems = [p.as_dict() for p in exc.problems]
    drawn = []
    for name, data in diagrams.items():
        if not name.lower().endswith(".bpmn"):
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        marked = sorted(
            {p["element_id"] for p in problems if p["file"] == name and p["element_id"]}
        )
        drawn.append({"name": name, "xml": text, "highlight": marked})
    listing, names = _listing()
    html = render_template(
        "pages/admin_processes.html",
        processes=listing,
        names=names,
        problems=problems,
        drawn=drawn,
    )
    return html, 422


@bp.get("/admin/processes/<int:definition_id>")
@login_required
@require_roles("admin")
def process_version(definition_id: int) -> str:
    with deps.transaction() as session:
        name, xml, definition = pages_view.definition_xml(session, definition_id)
        deployer = tasks_view.usernames(session, [definition.deployed_by_id], display=True)
        outline = pages_view.outlines(definition.files).get(definition.process_key)
    return render_template(
        "pages/admin_process.html",
        definition=definition,
        file_name=name,
        xml=xml,
        deployer=deployer.get(definition.deployed_by_id or 0),
        outline=outline,
    )


@bp.get("/admin/processes/<int:definition_id>/download")
@login_required
@require_roles("admin")
def download(definition_id: int) -> Response:
    with deps.transaction() as session:
        _, xml, definition = pages_view.definition_xml(session, definition_id)
        filename = f"{definition.process_key}-v{definition.version}.bpmn"
    return Response(
        xml, mimetype="application/xml", headers={"Content-Disposition": attachment(filename)}
    )


def attachment(filename: str) -> str:
    """A Content-Disposition for any file name. HTTP headers are Latin-1: a process id in
    another script broke the response, so the name goes as RFC 5987 UTF-8 (`filename*`) with
    a plain-ASCII `filename` for old clients."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
