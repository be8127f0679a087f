"""The process studio's API: check a diagram without deploying it, shared drafts, compare two
versions, roll a version out to running cases, and choose the version new cases start on.
Designers (admin, process_designer) only, except the diff: everyone may view diagrams."""

from __future__ import annotations

from typing import Any

from engine import definitions
from engine.definitions import studio
from engine.definitions.diff import diff_diagrams
from engine.errors import Invalid
from engine.instances import actor_of
from engine.instances import migration as rollout
from engine.workflow.parsing import DeploymentInvalid
from web import deps
from web.api import bp
from web.api.common import int_arg, iso, json_body, require_roles, transaction, user
from web.api.definitions import deployed_library, shipped_forms, uploaded_diagrams

# Instances moved per transaction: a failure loses at most one batch's work, never leaves
# an instance half-moved (the batch rolls back whole).
MIGRATION_BATCH = 25


def _designers_only() -> None:
    require_roles(*studio.DESIGNER_ROLES)


@bp.post("/process-definitions/validate")
def validate_definitions() -> Any:
    _designers_only()
    try:
        files, forms = uploaded_diagrams()
    except DeploymentInvalid as exc:  # wrong file kinds: listed like any other problem
        return {"problems": [{**p.as_dict(), "severity": "error"} for p in exc.problems]}, 200
    with transaction() as session:
        library = deployed_library(session)
    problems = studio.validate(
        files, library={**library, **files}, forms={**shipped_forms(), **forms}
    )
    return {"problems": problems}, 200


def _draft_json(draft: definitions.ProcessDraft, problems: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "key": draft.process_key,
        "bpmn": draft.bpmn,
        "forms": draft.forms,
        "comment": draft.comment,
        "updated_by": draft.updated_by.username if draft.updated_by is not None else None,
        "updated_at": iso(draft.updated_at),
        "problems": problems,
    }


def _draft_problems(session: Any, draft: definitions.ProcessDraft) -> list[dict[str, Any]]:
    files, forms = studio.draft_files(draft)
    library = deployed_library(session)
    return studio.validate(files, library={**library, **files}, forms={**shipped_forms(), **forms})


@bp.get("/process-drafts/<key>")
def get_process_draft(key: str) -> Any:
    _designers_only()
    with transaction() as session:
        draft = studio.get_draft(session, key)
        return _draft_json(draft, _draft_problems(session, draft))


@bp.put("/process-drafts/<key>")
def save_process_draft(key: str) -> Any:
    _designers_only()
    body = json_body()
    with transaction() as session:
        draft = studio.save_draft(
            session,
            key,
            bpmn=body.get("bpmn"),  # type: ignore[arg-type]
            forms=body.get("forms"),
            comment=body.get("comment"),
            actor=actor_of(user()),
            now=deps.clock().now(),
        )
        return _draft_json(draft, _draft_problems(session, draft)), 200


@bp.get("/process-definitions/<int:definition_id>/diff")
def diff_definitions(definition_id: int) -> Any:
    against = int_arg("against")
    if against is None:
        raise Invalid(
            "Name the version to compare with: ?against=<definition id>.",
            code="missing_against",
            details=[{"field": "against", "message": "Required."}],
        )
    with transaction() as session:
        new = definitions.get_definition(session, definition_id)
        old = definitions.get_definition(session, against)
        result = diff_diagrams(old.bpmn_xml, new.bpmn_xml)
    return result.as_dict()


def _migration_body() -> tuple[int, bool, list[int] | None]:
    body = json_body()
    errors = []
    source, dry_run, instances = body.get("from"), body.get("dry_run", True), body.get("instances")
    if not isinstance(source, int) or isinstance(source, bool):
        errors.append({"field": "from", "message": "The id of the version to move from."})
    if not isinstance(dry_run, bool):
        errors.append({"field": "dry_run", "message": "true or false."})
    if instances is not None and not (
        isinstance(instances, list)
        and all(isinstance(i, int) and not isinstance(i, bool) for i in instances)
    ):
        errors.append({"field": "instances", "message": "A list of instance ids."})
    if errors:
        raise Invalid(
            "The migration request is not valid.", code="invalid_migration", details=errors
        )
    return source, dry_run, instances  # type: ignore[return-value]


@bp.post("/process-definitions/<int:definition_id>/migrations")
def migrate_instances(definition_id: int) -> Any:
    _designers_only()
    source, dry_run, instances = _migration_body()
    actor = actor_of(user())
    with transaction() as session:
        ids = rollout.migration_targets(
            session, definition_id=definition_id, from_id=source, instance_ids=instances
        )
    results = []
    # One transaction per batch: committed batches stay moved if a later one fails.
    for start in range(0, len(ids), MIGRATION_BATCH):
        with transaction() as session:
            for instance_id in ids[start : start + MIGRATION_BATCH]:
                results.append(
                    rollout.migrate_instance(
                        session,
                        instance_id=instance_id,
                        definition_id=definition_id,
                        from_id=source,
                        dry_run=dry_run,
                        actor=actor,
                        clock=deps.clock(),
                    ).as_dict()
                )
    return {"dry_run": dry_run, "results": results}


@bp.post("/process-definitions/<int:definition_id>/make-current")
def make_current(definition_id: int) -> Any:
    _designers_only()
    with transaction() as session:
        d = studio.make_current(
            session, definition_id, actor=actor_of(user()), now=deps.clock().now()
        )
        return {"id": d.id, "process_key": d.process_key, "version": d.version, "current": True}
