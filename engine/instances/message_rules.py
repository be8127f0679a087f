"""Who may send which message. A message changes a pathway on someone's word, so each kind
names the origin it must come from:

- `referral_status`: the receiving organisation's answer. Only a token with the `referral`
  scope; staff record an answer on the organisation's behalf through the referral's own
  endpoint (engine.referrals, with its rules and `staff_recorded` source), never here.
- `discharge`: the hospital's ADT feed (a token with the `adt` or `hl7` scope) or a case
  manager or admin acting as themselves (browser session or `api` token).
- any other message a deployed process declares (e.g. a lab result a pathway waits for):
  an integration feed (`adt`/`hl7`) or anyone who works on cases, as themselves.
A name no deployed process declares is refused (422) before anyone's rights are weighed.

Every accepted message leaves an audit row naming the real actor: the user, and for a token
its id and scopes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts import Credential
from engine.cases.models import Case
from engine.definitions import services as definitions
from engine.definitions.models import ProcessDefinition
from engine.errors import Forbidden, Invalid, NotFound
from engine.workflow import runtime

CASE_ROLES = ("social_worker", "nurse", "physician", "case_manager", "supervisor", "admin")
FEED_SCOPES = ("adt", "hl7")


def _referral_status(credential: Credential) -> bool:
    return credential.has_scope("referral")


def _discharge(credential: Credential) -> bool:
    if credential.has_scope(*FEED_SCOPES):
        return True
    return credential.personal and credential.user.has_role("case_manager", "admin")


def _declared(credential: Credential) -> bool:
    if credential.has_scope(*FEED_SCOPES):
        return True
    return credential.personal and credential.user.has_role(*CASE_ROLES)


RULES: dict[str, tuple[Callable[[Credential], bool], str]] = {
    "referral_status": (
        _referral_status,
        "Referral answers come from the receiving organisation's referral token; staff "
        "record an answer on the referral itself.",
    ),
    "discharge": (
        _discharge,
        "A discharge comes from the hospital's ADT feed or a case manager.",
    ),
}
_DEFAULT = (_declared, "Your role does not allow sending this message.")

# (sha256, process key) -> message names: a deployed version never changes.
_NAMES: dict[tuple[str, str], frozenset[str]] = {}


def declared_messages(session: Session) -> set[str]:
    """The names of every message some deployed version of some process sends or catches."""
    names: set[str] = set()
    rows = session.execute(
        select(ProcessDefinition.id, ProcessDefinition.sha256, ProcessDefinition.process_key)
    ).all()
    for definition_id, sha256, key in rows:
        cached = _NAMES.get((sha256, key))
        if cached is None:
            definition = definitions.get_definition(session, definition_id)
            spec, subprocesses = definitions.specs_for(definition)
            cached = _NAMES[(sha256, key)] = frozenset(runtime.message_names(spec, subprocesses))
        names |= cached
    return names


def authorize_message(
    session: Session, *, name: str, case_id: int, credential: Credential, at: datetime
) -> None:
    """Refuse a message its sender may not send (Forbidden) or that no process knows
    (Invalid, naming `name`); otherwise record who sent it. The caller commits."""
    if not credential.has_scope("referral", *FEED_SCOPES) and not (
        credential.personal and credential.user.has_role(*CASE_ROLES)
    ):
        raise Forbidden("Your role does not allow sending messages.", code="role_required")
    if session.get(Case, case_id) is None:
        raise NotFound("No such case.", code="case_not_found")
    if name not in RULES and name not in declared_messages(session):
        raise Invalid(
            "No deployed process knows this message.",
            code="unknown_message",
            details=[{"field": "name", "message": f"Unknown message {name!r}."}],
        )
    allowed, refusal = RULES.get(name, _DEFAULT)
    if not allowed(credential):
        raise Forbidden(refusal, code="message_not_allowed")
    user = credential.user
    audit.record(
        session,
        audit.AuditTag.MESSAGE_ACCEPTED,
        actor=audit.Actor(user.id, user.username),
        at=at,
        category="integration",
        case_id=case_id,
        details={"message": name, **credential.audit_details()},
    )
