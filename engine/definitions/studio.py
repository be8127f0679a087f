"""The process studio's services: check a diagram without storing it, shared drafts, and
choosing the version new cases start on (rollback)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.definitions.models import ProcessCurrentVersion, ProcessDefinition, ProcessDraft
from engine.errors import Invalid, NotFound
from engine.workflow import parsing

DESIGNER_ROLES = ("admin", "process_designer")


def _problem(p: parsing.Problem, severity: str) -> dict[str, Any]:
    return {
        "file": p.file,
        "element_id": p.element_id,
        "line": p.line,
        "message": p.message,
        "severity": severity,
    }


def validate(
    files: Mapping[str, bytes],
    *,
    library: Mapping[str, bytes],
    forms: Mapping[str, bytes],
) -> list[dict[str, Any]]:
    """Every problem the deploy pre-flight finds in `files` (severity "error": deploy would
    refuse) and its warnings; nothing is stored."""
    try:
        bundles = parsing.prepare(files, library=library, forms=forms)
    except parsing.DeploymentInvalid as exc:
        return [_problem(p, "error") for p in exc.problems]
    return [_problem(w, "warning") for b in bundles for w in b.warnings]


def get_draft(session: Session, process_key: str) -> ProcessDraft:
    draft = session.get(ProcessDraft, process_key)
    if draft is None:
        raise NotFound(f"No draft of {process_key!r} is saved.", code="draft_not_found")
    return draft


def save_draft(
    session: Session,
    process_key: str,
    *,
    bpmn: str,
    forms: Mapping[str, Any] | None,
    comment: str | None,
    actor: audit.Actor,
    now: datetime,
) -> ProcessDraft:
    """Create or replace the draft of `process_key`; the last save wins and names its
    author, so designers working together see who changed it last."""
    if not isinstance(bpmn, str) or not bpmn.strip():
        raise Invalid(
            "A draft needs the diagram XML in 'bpmn'.",
            code="invalid_draft",
            details=[{"field": "bpmn", "message": "Required."}],
        )
    if forms is not None and not isinstance(forms, Mapping):
        raise Invalid(
            "'forms' must map form file names to their JSON.",
            code="invalid_draft",
            details=[{"field": "forms", "message": "Must be an object."}],
        )
    if comment is not None and not isinstance(comment, str):
        raise Invalid(
            "'comment' must be text.",
            code="invalid_draft",
            details=[{"field": "comment", "message": "Must be a string."}],
        )
    draft = session.get(ProcessDraft, process_key)
    if draft is None:
        draft = ProcessDraft(process_key=process_key)
        session.add(draft)
    draft.bpmn = bpmn
    draft.forms = dict(forms or {})
    draft.comment = comment
    draft.updated_by_id = actor.id
    draft.updated_at = now
    audit.record(
        session,
        audit.AuditTag.PROCESS_DRAFT_SAVED,
        actor=actor,
        at=now,
        category="configuration",
        details={"process": process_key},
    )
    session.flush()
    return draft


def draft_files(draft: ProcessDraft) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The draft as deploy's uploads: one diagram file and its forms."""
    files = {f"{draft.process_key}.bpmn": draft.bpmn.encode("utf-8")}
    forms = {
        name: (value if isinstance(value, str) else json.dumps(value)).encode("utf-8")
        for name, value in draft.forms.items()
    }
    return files, forms


def make_current(
    session: Session, definition_id: int, *, actor: audit.Actor, now: datetime
) -> ProcessDefinition:
    """Make `definition_id` the version new cases of its process start on. Nothing is
    deleted, and running instances stay on their versions."""
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound("No such process definition.", code="definition_not_found")
    newest = session.scalar(
        select(ProcessDefinition.id)
        .where(ProcessDefinition.process_key == definition.process_key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    pinned = session.get(ProcessCurrentVersion, definition.process_key)
    if definition.id == newest:
        if pinned is not None:
            session.delete(pinned)  # the newest is current without a pin
    elif pinned is None:
        session.add(
            ProcessCurrentVersion(process_key=definition.process_key, definition_id=definition.id)
        )
    else:
        pinned.definition_id = definition.id
    audit.record(
        session,
        audit.AuditTag.DEFINITION_MADE_CURRENT,
        actor=actor,
        at=now,
        category="configuration",
        details={
            "definition_id": definition.id,
            "process": definition.process_key,
            "version": definition.version,
        },
    )
    session.flush()
    return definition


def current_ids(session: Session) -> set[int]:
    """The id of the version new cases start on, for every process."""
    pinned: dict[str, int] = {
        key: definition_id
        for key, definition_id in session.execute(
            select(ProcessCurrentVersion.process_key, ProcessCurrentVersion.definition_id)
        )
    }
    out: set[int] = set()
    newest: dict[str, tuple[int, int]] = {}
    for key, version, id_ in session.execute(
        select(ProcessDefinition.process_key, ProcessDefinition.version, ProcessDefinition.id)
    ):
        if key not in newest or version > newest[key][0]:
            newest[key] = (version, id_)
    for key, (_, id_) in newest.items():
        out.add(pinned.get(key, id_))
    return out


BLANK_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="definitions_{key}" targetNamespace="http://carebridge.example/bpmn">
  <bpmn:collaboration id="collaboration_{key}">
    <bpmn:participant id="participant_{key}" name="{key}" processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:laneSet id="lanes_{key}">
      <bpmn:lane id="lane_social_worker" name="Social Worker">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram_{key}">
    <bpmndi:BPMNPlane id="plane_{key}" bpmnElement="collaboration_{key}">
      <bpmndi:BPMNShape id="participant_{key}_di" bpmnElement="participant_{key}"
          isHorizontal="true">
        <dc:Bounds x="100" y="60" width="700" height="200" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_social_worker_di" bpmnElement="lane_social_worker"
          isHorizontal="true">
        <dc:Bounds x="130" y="60" width="670" height="200" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="180" y="142" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def editor_start(session: Session, process_key: str) -> dict[str, Any]:
    """What the editor opens for `process_key`: its draft, else the version new cases start
    on, else a blank process with one lane (a new process)."""
    from engine.definitions.services import current_definition

    draft = session.get(ProcessDraft, process_key)
    if draft is not None:
        return {
            "xml": draft.bpmn,
            "source": "draft",
            "updated_by": draft.updated_by.username if draft.updated_by else None,
            "updated_at": draft.updated_at,
            "comment": draft.comment,
        }
    try:
        current = current_definition(session, process_key)
    except NotFound:
        return {"xml": BLANK_PROCESS.format(key=process_key), "source": "new"}
    return {"xml": current.bpmn_xml, "source": f"version {current.version}"}
