"""Rolling a new version of a pathway out to its running cases, one instance per call.

The caller runs `migrate_instance` for a batch of instances inside one transaction and
commits; a failure rolls back that batch only, so each instance is always on exactly one
version: the old one (state, projections and definition untouched) or the new one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.calendar import DEFAULT_SITE, Site
from engine.clock import Clock
from engine.definitions import services as definitions
from engine.definitions.models import ProcessDefinition
from engine.errors import Invalid
from engine.instances.models import ProcessInstance
from engine.instances.services import _audit_instance, _load, _lock_instance, _save
from engine.workflow import migration, runtime

LIVE_STATUSES = ("completed", "cancelled")


@dataclass(frozen=True)
class MigrationResult:
    instance_id: int
    case_id: int | None
    movable: bool
    reason: str | None
    moved: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "case_id": self.case_id,
            "movable": self.movable,
            "reason": self.reason,
            "moved": self.moved,
        }


def migration_targets(
    session: Session,
    *,
    definition_id: int,
    from_id: int,
    instance_ids: Sequence[int] | None = None,
) -> list[int]:
    """The running instances of version `from_id` to consider (all of them, or those of
    `instance_ids`, in id order). Both versions must be of one process."""
    target = definitions.get_definition(session, definition_id)
    source = definitions.get_definition(session, from_id)
    if source.process_key != target.process_key:
        raise Invalid(
            "Instances can only move between versions of the same process.",
            code="migration_other_process",
            details=[{"field": "from", "message": "Another process's version."}],
        )
    if source.id == target.id:
        raise Invalid(
            "Choose a different version to move the instances from.",
            code="migration_same_version",
            details=[{"field": "from", "message": "Same as the target version."}],
        )
    stmt = select(ProcessInstance.id).order_by(ProcessInstance.id)
    if instance_ids is not None:
        stmt = stmt.where(ProcessInstance.id.in_(list(instance_ids)))
    else:
        stmt = stmt.where(
            ProcessInstance.definition_id == source.id,
            ProcessInstance.status.not_in(LIVE_STATUSES),
        )
    return list(session.scalars(stmt))


def migrate_instance(
    session: Session,
    *,
    instance_id: int,
    definition_id: int,
    from_id: int,
    dry_run: bool,
    actor: audit.Actor,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> MigrationResult:
    """Say whether the instance can move from version `from_id` to `definition_id` and,
    unless `dry_run`, move it: new spec attached, state and projections (human tasks,
    timers) rewritten, the move audited. A blocked instance is left untouched."""
    instance = _lock_instance(session, instance_id)

    def blocked(reason: str) -> MigrationResult:
        return MigrationResult(instance.id, instance.case_id, False, reason)

    if instance.definition_id != from_id:
        return blocked("it is not on the version being moved from")
    if instance.status in LIVE_STATUSES:
        return blocked(f"it is {instance.status}")
    target: ProcessDefinition = definitions.get_definition(session, definition_id)
    new_spec, new_subspecs = definitions.specs_for(target)
    now = clock.now()
    # Never the live object of the last command: a dry run or a blocked check must leave
    # nothing changed behind.
    wf = _load(instance, live=False)
    with runtime.using_clock(clock):
        reasons = migration.blockers(
            wf, new_spec, new_subspecs, now=now, serializer=runtime.SERIALIZER
        )
    if reasons:
        return blocked("; ".join(reasons))
    if dry_run:
        return MigrationResult(instance.id, instance.case_id, True, None)
    with runtime.using_clock(clock):
        migration.migrate(wf, new_spec, new_subspecs, serializer=runtime.SERIALIZER)
    old_version = instance.definition.version
    instance.definition_id = target.id
    instance.definition = target
    _save(session, instance, wf, now=now, site=site, actor=actor)
    _audit_instance(
        session,
        audit.AuditTag.INSTANCE_MIGRATED,
        instance,
        actor=actor,
        at=now,
        details={
            "process": target.process_key,
            "from_definition_id": from_id,
            "from_version": old_version,
            "to_definition_id": target.id,
            "to_version": target.version,
        },
    )
    return MigrationResult(instance.id, instance.case_id, True, None, moved=True)
