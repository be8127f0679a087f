"""Progress notes: write (signed on save), read, list and search, addenda, co-signature.
A note is never edited: PATCH, PUT and DELETE answer 405."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from engine import notes
from web import deps
from web.api import bp
from web.api.common import iso, json_body, transaction, user
from web.errors import error_body


def note_json(view: notes.NoteView) -> dict[str, Any]:
    n = view.note
    masked = view.masked
    return {
        "id": n.id,
        "case_id": n.case_id,
        "type": n.note_type,
        "body": notes.MASKED_BODY if masked else n.body,
        "fields": {} if masked else dict(n.fields or {}),
        "minutes": n.minutes,
        "participants": list(n.participants or []),
        "contact_id": n.contact_id,
        "sensitive": n.sensitive,
        "masked": masked,
        "author": view.names.get(n.author_id),
        "signed_by": view.names.get(n.signed_by_id),
        "signed_at": iso(n.signed_at),
        "status": view.status,
        "needs_cosign": n.needs_cosign,
        "cosigned_by": view.names.get(n.cosigned_by_id) if n.cosigned_by_id else None,
        "cosigned_at": iso(n.cosigned_at),
        "addenda": [
            {
                "id": a.id,
                "body": notes.MASKED_BODY if masked else a.body,
                "author": view.names.get(a.author_id),
                "signed_at": iso(a.signed_at),
            }
            for a in view.addenda
        ],
    }


@bp.post("/cases/<int:case_id>/notes")
def write_note(case_id: int) -> Any:
    payload = json_body()
    with transaction() as session:
        view = notes.write_note(
            session, case_id=case_id, payload=payload, actor=user(), clock=deps.clock()
        )
        body = {"note": note_json(view)}
    deps.committed()
    return body, 201


@bp.get("/cases/<int:case_id>/notes")
def list_notes(case_id: int) -> Any:
    with transaction() as session:
        views = notes.list_notes(
            session,
            case_id=case_id,
            actor=user(),
            clock=deps.clock(),
            note_type=request.args.get("type") or None,
            q=(request.args.get("q") or "").strip() or None,
        )
        return {"notes": [note_json(v) for v in views]}


@bp.get("/notes/<int:note_id>")
def get_note(note_id: int) -> Any:
    with transaction() as session:
        view = notes.read_note(session, note_id=note_id, actor=user(), clock=deps.clock())
        return {"note": note_json(view)}


@bp.route("/notes/<int:note_id>", methods=["PATCH", "PUT", "DELETE"])
def change_note(note_id: int) -> Any:
    """Signed notes are part of the legal record: corrections are addenda."""
    response = jsonify(
        error_body(
            "note_immutable",
            "A signed note cannot be changed or deleted; add an addendum instead.",
            [{"field": "addenda", "message": f"POST /api/v1/notes/{note_id}/addenda"}],
        )
    )
    response.status_code = 405
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    return response


@bp.post("/notes/<int:note_id>/addenda")
def add_addendum(note_id: int) -> Any:
    body = json_body().get("body")
    clock = deps.clock()
    with transaction() as session:
        notes.add_addendum(session, note_id=note_id, body=body, actor=user(), clock=clock)
        view = notes.read_note(session, note_id=note_id, actor=user(), clock=clock)
        result = {"addendum": note_json(view)["addenda"][-1], "note": note_json(view)}
    return result, 201


@bp.post("/notes/<int:note_id>/cosign")
def cosign_note(note_id: int) -> Any:
    with transaction() as session:
        view = notes.cosign_note(session, note_id=note_id, actor=user(), clock=deps.clock())
        return {"note": note_json(view)}
