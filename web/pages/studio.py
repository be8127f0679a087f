"""The process studio's pages: the diagram editor (drafts, checks, deploy, roll-out) and the
side-by-side comparison of two versions. The pages only draw; every change goes through the
JSON API (web/api/studio.py), which the editor's script calls."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import current_app, redirect, render_template, request, url_for

from engine import definitions
from engine.definitions import studio
from engine.definitions.diff import diff_diagrams
from engine.errors import BadRequest
from web import deps
from web.auth import login_required, require_roles
from web.pages import bp

# A BPMN process id is an XML NCName; the studio keeps to the plain subset.
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,199}")


def _versions(session: Any, key: str) -> list[dict[str, Any]]:
    current = studio.current_ids(session)
    return [
        {
            "id": s.definition.id,
            "version": s.definition.version,
            "comment": s.definition.comment,
            "running": s.running_instances,
            "current": s.definition.id in current,
        }
        for s in definitions.list_definitions(session)
        if s.definition.process_key == key
    ]


@bp.get("/admin/processes/new")
@login_required
@require_roles(*studio.DESIGNER_ROLES)
def new_process() -> Any:
    key = (request.args.get("key") or "").strip()
    if not key:
        return render_template("pages/studio_new.html")
    if not _KEY.fullmatch(key):
        raise BadRequest(
            "A process key starts with a letter and holds letters, digits, _ . or -.",
            code="bad_process_key",
        )
    return redirect(url_for("pages.edit_process", key=key))


@bp.get("/admin/processes/<key>/edit")
@login_required
@require_roles(*studio.DESIGNER_ROLES)
def edit_process(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise BadRequest("No such process key.", code="bad_process_key")
    settings = deps.deps().settings
    forms = (
        sorted(definitions.read_forms(settings.forms_dir)) if settings.forms_dir.is_dir() else []
    )
    with deps.transaction() as session:
        start = studio.editor_start(session, key)
        versions = _versions(session, key)
    return render_template(
        "pages/studio_edit.html",
        key=key,
        start=start,
        versions=versions,
        forms=[f for f in forms if f.endswith(".schema.json")],
        modeler=_modeler_available(),
    )


@bp.get("/admin/processes/<key>/compare")
@login_required
def compare_versions(key: str) -> str:
    old_id = request.args.get("old", type=int)
    new_id = request.args.get("new", type=int)
    if old_id is None or new_id is None:
        raise BadRequest("Choose two versions: ?old=<id>&new=<id>.", code="missing_versions")
    with deps.transaction() as session:
        old = definitions.get_definition(session, old_id)
        new = definitions.get_definition(session, new_id)
        if old.process_key != key or new.process_key != key:
            raise BadRequest("Both versions must be of this process.", code="other_process")
        diff = diff_diagrams(old.bpmn_xml, new.bpmn_xml)
        payload = {
            "old": {"name": f"v{old.version}", "xml": old.bpmn_xml},
            "new": {"name": f"v{new.version}", "xml": new.bpmn_xml},
            "diff": diff.as_dict(),
        }
    return render_template(
        "pages/studio_compare.html", key=key, payload=payload, diff=diff, old=old, new=new
    )


def _modeler_available() -> bool:
    static = Path(current_app.static_folder or "")
    return (static / "vendor" / "bpmn-js" / "bpmn-modeler.production.min.js").is_file()
