"""The permission matrix: every route of the JSON API and the pages, for every role, with the
status each one gets.

One table, one row per (method, route), one column per caller. The routes are read from
app.url_map: a route missing from the table (or a row for a route that no longer exists)
fails the test, so a new route cannot ship without saying who may use it.

The callers and their relation to the one case every row is tried on:
  sw          its primary social worker (holds its intake task)
  nurse       on its care team
  physician   on no care team (reads only with break-glass)
  cm          case manager on its care team
  supervisor, admin
  colleague   a social worker off its care team
  anon        not signed in
Every cell runs in a SAVEPOINT rolled back afterwards, so each request sees the same state
and may change it for real (a 201 or 204 in the table was a real write).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from engine import cases, definitions, notes, referrals
from engine.clock import FrozenClock
from tests import factories
from tests.web.pages.conftest import sign_in
from tests.web.pages.forms_data import INTAKE as INTAKE_FORM

CALLERS = ("sw", "nurse", "physician", "cm", "supervisor", "admin", "colleague", "anon")

INTAKE = {
    "referral_date": "2026-03-01",
    "referral_source": "physician",
    "reason_for_referral": "Discharge planning",
    "living_situation": "alone",
    "primary_language": "English",
    "interpreter_needed": False,
    "consent_to_social_work": "client",
}
NEW_CASE = {
    "client": {"given_name": "Ana", "family_name": "Lima", "birth_date": "1950-01-01"},
    "reason": "Falls",
}
NEW_CASE_FORM = {
    "client.given_name": "Ana",
    "client.family_name": "Lima",
    "client.birth_date": "1950-01-01",
    "reason": "Falls",
}


@dataclass(frozen=True)
class Row:
    url: str  # formatted with the ids of the World below
    codes: str  # eight statuses, in CALLERS order, separated by spaces
    json: Any = None  # JSON body (API) ...
    form: dict[str, Any] | None = None  # ... or form fields (pages)


def same(code: int, anon: int) -> str:
    return " ".join([str(code)] * 7 + [str(anon)])


API_ANY = same(200, 401)  # every signed-in user
PAGE_ANY = same(200, 302)  # anonymous callers are sent to the login page
# Reads of the case's record: the team and task holders, supervisors and admins.
CASE_READ = "200 200 403 200 200 200 403 401"
CASE_PAGE = "200 200 403 200 200 200 403 302"
# Rota writes: supervisors and admins (an empty body is then 422).
MANAGERS_WRITE = "403 403 403 403 422 422 403 401"

# (method, rule) -> Row. Statuses are what the caller gets, not what a role "could" do in
# another situation: e.g. claiming a task someone holds is 409 for everyone else.
MATRIX: dict[tuple[str, str], Row] = {
    # ---- API: tasks
    ("GET", "/api/v1/tasks"): Row("/api/v1/tasks?view=all", API_ANY),
    ("GET", "/api/v1/tasks/<int:task_id>"): Row("/api/v1/tasks/{task}", CASE_READ),
    ("POST", "/api/v1/tasks/<int:task_id>/claim"): Row(
        "/api/v1/tasks/{task}/claim", "200 409 409 409 409 409 409 401", json={}
    ),
    ("POST", "/api/v1/tasks/<int:task_id>/release"): Row(
        "/api/v1/tasks/{task}/release", "200 403 403 403 200 200 403 401", json={}
    ),
    ("POST", "/api/v1/tasks/<int:task_id>/assign"): Row(
        "/api/v1/tasks/{task}/assign", "200 403 403 403 200 200 403 401", json={"user": "sam"}
    ),
    ("POST", "/api/v1/tasks/<int:task_id>/complete"): Row(
        "/api/v1/tasks/{task}/complete", "200 403 403 403 403 403 403 401", json={"data": INTAKE}
    ),
    ("POST", "/api/v1/tasks/<int:task_id>/acknowledge"): Row(
        "/api/v1/tasks/{task}/acknowledge", "200 200 403 200 200 403 200 401", json={}
    ),
    # ---- API: drafts, the live inbox, bulk reassignment, in-place sign-in
    ("GET", "/api/v1/tasks/<int:task_id>/draft"): Row(
        "/api/v1/tasks/{task}/draft", "404 404 403 404 404 404 403 401"
    ),
    ("PUT", "/api/v1/tasks/<int:task_id>/draft"): Row(
        "/api/v1/tasks/{task}/draft", "200 403 403 403 403 403 403 401", json={"data": {}}
    ),
    ("DELETE", "/api/v1/tasks/<int:task_id>/draft"): Row(
        "/api/v1/tasks/{task}/draft", "204 204 403 204 204 204 403 401"
    ),
    ("GET", "/api/v1/inbox/summary"): Row("/api/v1/inbox/summary", API_ANY),
    ("POST", "/api/v1/tasks/bulk-assign"): Row(
        "/api/v1/tasks/bulk-assign",
        "403 403 403 403 200 200 403 401",
        json={"task_ids": [0], "user": "sam", "note": "Covering"},
    ),
    ("GET", "/api/v1/session"): Row("/api/v1/session", API_ANY),
    ("POST", "/api/v1/session"): Row(
        "/api/v1/session", same(401, 401), json={"username": "alex", "password": "wrong"}
    ),
    # ---- API: on-call rota and alert delivery
    ("GET", "/api/v1/on-call"): Row("/api/v1/on-call", API_ANY),
    ("POST", "/api/v1/on-call"): Row("/api/v1/on-call", MANAGERS_WRITE, json={}),
    ("DELETE", "/api/v1/on-call/<int:shift_id>"): Row(
        "/api/v1/on-call/999999", "403 403 403 403 404 404 403 401"
    ),
    ("GET", "/api/v1/notifications"): Row("/api/v1/notifications?case={case}", CASE_READ),
    # ---- API: cases, care team, break-glass
    ("POST", "/api/v1/cases"): Row("/api/v1/cases", same(201, 401), json=NEW_CASE),
    ("GET", "/api/v1/cases/<int:case_id>"): Row("/api/v1/cases/{case}", CASE_READ),
    ("GET", "/api/v1/cases/<int:case_id>/timeline"): Row(
        "/api/v1/cases/{case}/timeline", CASE_READ
    ),
    ("GET", "/api/v1/cases/<int:case_id>/team"): Row("/api/v1/cases/{case}/team", CASE_READ),
    ("POST", "/api/v1/cases/<int:case_id>/team"): Row(
        "/api/v1/cases/{case}/team",
        "201 403 403 201 201 201 403 401",
        json={"case_role": "other", "name": "Aunt May"},
    ),
    ("DELETE", "/api/v1/cases/<int:case_id>/team/<int:member_id>"): Row(
        "/api/v1/cases/{case}/team/{member}", "204 403 403 204 204 204 403 401"
    ),
    ("POST", "/api/v1/cases/<int:case_id>/break-glass"): Row(
        "/api/v1/cases/{case}/break-glass", same(201, 401), json={"reason": "On call tonight"}
    ),
    ("POST", "/api/v1/cases/<int:case_id>/screenings"): Row(
        "/api/v1/cases/{case}/screenings",
        "201 201 403 201 201 403 403 401",
        json={"instrument": "phq2", "answers": {"q1": 0, "q2": 1}},
    ),
    ("POST", "/api/v1/cases/<int:case_id>/flags"): Row(
        "/api/v1/cases/{case}/flags",
        "200 200 403 200 200 403 403 401",
        json={"flag": "do_not_contact", "set": True, "reason": "Partner threatens her"},
    ),
    # ---- API: the social worker's record (notes, contacts, caseload, handoffs)
    ("POST", "/api/v1/cases/<int:case_id>/notes"): Row(
        "/api/v1/cases/{case}/notes",
        "201 201 403 201 201 403 403 401",
        json={"type": "other", "body": "Phoned the daughter."},
    ),
    ("GET", "/api/v1/cases/<int:case_id>/notes"): Row("/api/v1/cases/{case}/notes", CASE_READ),
    ("GET", "/api/v1/notes/<int:note_id>"): Row("/api/v1/notes/{note}", CASE_READ),
    ("PATCH", "/api/v1/notes/<int:note_id>"): Row("/api/v1/notes/{note}", same(405, 401), json={}),
    ("PUT", "/api/v1/notes/<int:note_id>"): Row("/api/v1/notes/{note}", same(405, 401), json={}),
    ("DELETE", "/api/v1/notes/<int:note_id>"): Row("/api/v1/notes/{note}", same(405, 401)),
    ("POST", "/api/v1/notes/<int:note_id>/addenda"): Row(
        "/api/v1/notes/{note}/addenda", "201 201 403 201 201 403 403 401", json={"body": "Also."}
    ),
    ("POST", "/api/v1/notes/<int:note_id>/cosign"): Row(
        "/api/v1/notes/{note}/cosign", "403 403 403 403 409 403 403 401", json={}
    ),
    ("GET", "/api/v1/cases/<int:case_id>/contacts"): Row(
        "/api/v1/cases/{case}/contacts", CASE_READ
    ),
    ("POST", "/api/v1/cases/<int:case_id>/contacts"): Row(
        "/api/v1/cases/{case}/contacts",
        "201 201 403 201 201 403 403 401",
        json={"name": "May Lima", "relationship": "relative"},
    ),
    ("GET", "/api/v1/caseload"): Row("/api/v1/caseload", API_ANY),
    ("GET", "/api/v1/caseload/team"): Row(
        "/api/v1/caseload/team", "403 403 403 403 200 200 403 401"
    ),
    ("POST", "/api/v1/cases/<int:case_id>/primary-worker"): Row(
        "/api/v1/cases/{case}/primary-worker",
        "403 403 403 403 200 200 403 401",
        json={"user": "sam", "note": "Alex is on leave; daughter is the main contact."},
    ),
    ("GET", "/api/v1/cases/<int:case_id>/referrals"): Row(
        "/api/v1/cases/{case}/referrals", CASE_READ
    ),
    ("GET", "/api/v1/process-instances/<int:instance_id>"): Row(
        "/api/v1/process-instances/{instance}", CASE_READ
    ),
    ("GET", "/api/v1/reports/break-glass"): Row(
        "/api/v1/reports/break-glass", "403 403 403 403 200 200 403 401"
    ),
    # Quality reports: a social worker sees their own caseload row, nothing else.
    ("GET", "/api/v1/reports/<name>"): Row(
        "/api/v1/reports/caseload?from=2026-02-23&to=2026-03-02", "200 403 403 403 200 200 200 401"
    ),
    ("GET", "/api/v1/process-definitions/<int:definition_id>/heat"): Row(
        "/api/v1/process-definitions/{definition}/heat", "403 403 403 403 200 200 403 401"
    ),
    ("GET", "/api/v1/audit"): Row("/api/v1/audit?case={case}", "403 403 403 403 403 200 403 401"),
    ("GET", "/api/v1/integration-errors"): Row(
        "/api/v1/integration-errors", "403 403 403 403 403 200 403 401"
    ),
    # ---- FHIR R4: integration tokens with a scope only; a signed-in person is 401 there
    ("GET", "/fhir/R4/metadata"): Row("/fhir/R4/metadata", same(401, 401)),
    ("GET", "/fhir/R4/<resource_type>"): Row("/fhir/R4/Patient", same(401, 401)),
    ("GET", "/fhir/R4/<resource_type>/<resource_id>"): Row(
        "/fhir/R4/Patient/{client}", same(401, 401)
    ),
    ("POST", "/fhir/R4/ServiceRequest"): Row("/fhir/R4/ServiceRequest", same(401, 401), json={}),
    # ---- API: referrals and consents (no referral exists yet: 404 after the role check)
    ("GET", "/api/v1/referrals/<int:referral_id>"): Row("/api/v1/referrals/999999", same(404, 401)),
    ("POST", "/api/v1/referrals/<int:referral_id>/status"): Row(
        "/api/v1/referrals/999999/status",
        "404 403 403 404 404 404 404 401",
        json={"status": "accepted"},
    ),
    ("GET", "/api/v1/clients/<int:client_id>/consents"): Row(
        "/api/v1/clients/{client}/consents", CASE_READ
    ),
    ("POST", "/api/v1/clients/<int:client_id>/consents"): Row(
        "/api/v1/clients/{client}/consents",
        "201 403 403 201 201 201 403 401",
        json={"recipient": "Food Bank"},
    ),
    ("POST", "/api/v1/consents/<int:consent_id>/revoke"): Row(
        "/api/v1/consents/{consent}/revoke", "200 403 403 200 200 200 403 401", json={}
    ),
    ("GET", "/api/v1/resources"): Row("/api/v1/resources?need=food", API_ANY),
    ("POST", "/api/v1/resources"): Row(
        "/api/v1/resources", "403 403 403 422 422 422 403 401", json={}
    ),
    # ---- API: definitions, messages, instruments, meta
    ("GET", "/api/v1/process-definitions"): Row("/api/v1/process-definitions", API_ANY),
    ("POST", "/api/v1/process-definitions"): Row(
        "/api/v1/process-definitions", "403 403 403 403 403 400 403 401", json={}
    ),
    ("GET", "/api/v1/process-definitions/<int:definition_id>/xml"): Row(
        "/api/v1/process-definitions/{definition}/xml", API_ANY
    ),
    # ---- API: process studio (admin and process_designer; no caller here is a designer but
    # admin). The diff is a view of diagrams: everyone signed in.
    ("POST", "/api/v1/process-definitions/validate"): Row(
        "/api/v1/process-definitions/validate", "403 403 403 403 403 400 403 401", json={}
    ),
    ("GET", "/api/v1/process-drafts/<key>"): Row(
        "/api/v1/process-drafts/care_pathway", "403 403 403 403 403 404 403 401"
    ),
    ("PUT", "/api/v1/process-drafts/<key>"): Row(
        "/api/v1/process-drafts/care_pathway", "403 403 403 403 403 422 403 401", json={}
    ),
    ("GET", "/api/v1/process-definitions/<int:definition_id>/diff"): Row(
        "/api/v1/process-definitions/{definition}/diff?against={definition}", API_ANY
    ),
    ("POST", "/api/v1/process-definitions/<int:definition_id>/migrations"): Row(
        "/api/v1/process-definitions/{definition}/migrations",
        "403 403 403 403 403 422 403 401",
        json={},
    ),
    ("POST", "/api/v1/process-definitions/<int:definition_id>/make-current"): Row(
        "/api/v1/process-definitions/{definition}/make-current",
        "403 403 403 403 403 200 403 401",
        json={},
    ),
    ("POST", "/api/v1/messages"): Row("/api/v1/messages", same(422, 401), json={}),
    ("GET", "/api/v1/tokens"): Row("/api/v1/tokens", API_ANY),
    ("DELETE", "/api/v1/tokens/<int:token_id>"): Row("/api/v1/tokens/999999", same(404, 401)),
    ("POST", "/api/v1/account/password"): Row("/api/v1/account/password", same(422, 401), json={}),
    ("POST", "/api/v1/users/<username>/unlock"): Row(
        "/api/v1/users/alex/unlock", "403 403 403 403 403 200 403 401", json={}
    ),
    ("GET", "/api/v1/instruments"): Row("/api/v1/instruments", API_ANY),
    ("POST", "/api/v1/instruments/<key>/score"): Row(
        "/api/v1/instruments/phq2/score", API_ANY, json={"answers": {"q1": 1, "q2": 1}}
    ),
    ("GET", "/api/v1/openapi.json"): Row("/api/v1/openapi.json", same(200, 200)),
    ("GET", "/healthz"): Row("/healthz", same(200, 200)),
    ("GET", "/metrics"): Row("/metrics", same(200, 200)),
    ("GET", "/static/<path:filename>"): Row("/static/css/carebridge.css", same(200, 200)),
    # ---- pages
    # The organisation's referral link needs no account: a token that is not signed by this
    # site names nothing, for everyone (the link tests cover a real token).
    ("GET", "/r/<token>"): Row("/r/not-a-signed-token", same(404, 404)),
    ("POST", "/r/<token>"): Row("/r/not-a-signed-token", same(404, 404), form={"action": "accept"}),
    ("GET", "/"): Row("/", PAGE_ANY),
    ("GET", "/login"): Row("/login", same(302, 200)),
    ("POST", "/login"): Row("/login", same(401, 401), form={"username": "x", "password": "y"}),
    ("POST", "/logout"): Row("/logout", same(302, 302), form={}),
    ("GET", "/cases"): Row("/cases", PAGE_ANY),
    ("GET", "/cases/new"): Row("/cases/new", "200 200 200 200 200 403 200 302"),
    ("POST", "/cases/new"): Row(
        "/cases/new", "302 302 302 302 302 403 302 302", form=NEW_CASE_FORM
    ),
    ("GET", "/cases/<int:case_id>"): Row("/cases/{case}", CASE_PAGE),
    ("GET", "/caseload"): Row("/caseload", PAGE_ANY),
    ("GET", "/caseload/team"): Row("/caseload/team", "403 403 403 403 200 200 403 302"),
    ("POST", "/cases/<int:case_id>/notes"): Row(
        "/cases/{case}/notes",
        "302 302 403 302 302 403 403 302",
        form={"type": "other", "body": "Phoned the daughter."},
    ),
    ("POST", "/notes/<int:note_id>/addenda"): Row(
        "/notes/{note}/addenda", "302 302 403 302 302 403 403 302", form={"body": "Also."}
    ),
    ("POST", "/notes/<int:note_id>/cosign"): Row(
        "/notes/{note}/cosign", "403 403 403 403 302 403 403 302", form={}
    ),
    ("POST", "/cases/<int:case_id>/contacts"): Row(
        "/cases/{case}/contacts",
        "302 302 403 302 302 403 403 302",
        form={"name": "May Lima", "relationship": "relative"},
    ),
    ("POST", "/cases/<int:case_id>/primary-worker"): Row(
        "/cases/{case}/primary-worker",
        "403 403 403 403 302 302 403 302",
        form={"user": "sam", "note": "Alex is on leave."},
    ),
    ("POST", "/cases/<int:case_id>/break-glass"): Row(
        "/cases/{case}/break-glass", same(302, 302), form={"reason": "Covering"}
    ),
    ("POST", "/cases/<int:case_id>/team"): Row(
        "/cases/{case}/team",
        "302 403 403 302 302 302 403 302",
        form={"case_role": "other", "name": "Aunt May"},
    ),
    ("POST", "/cases/<int:case_id>/team/<int:member_id>/remove"): Row(
        "/cases/{case}/team/{member}/remove", "302 403 403 302 302 302 403 302", form={}
    ),
    ("GET", "/cases/<int:case_id>/screen/<key>"): Row(
        "/cases/{case}/screen/phq2", "200 200 403 200 200 403 403 302"
    ),
    ("POST", "/cases/<int:case_id>/screen/<key>"): Row(
        "/cases/{case}/screen/phq2",
        "302 302 403 302 302 403 403 302",
        form={"phq2.q1": "0", "phq2.q2": "1"},
    ),
    ("POST", "/cases/<int:case_id>/do-not-contact"): Row(
        "/cases/{case}/do-not-contact",
        "302 302 403 302 302 403 403 302",
        form={"value": "set", "reason": "Partner threatens her"},
    ),
    ("GET", "/instances/<int:instance_id>/diagram.json"): Row(
        "/instances/{instance}/diagram.json", CASE_PAGE
    ),
    ("GET", "/tasks/<int:task_id>"): Row("/tasks/{task}", CASE_PAGE),
    ("POST", "/tasks/<int:task_id>"): Row(
        "/tasks/{task}", "302 403 403 403 403 403 403 302", form=INTAKE_FORM
    ),
    ("POST", "/tasks/<int:task_id>/claim"): Row("/tasks/{task}/claim", same(302, 302), form={}),
    ("POST", "/tasks/<int:task_id>/release"): Row(
        "/tasks/{task}/release", "302 403 403 403 302 302 403 302", form={}
    ),
    ("POST", "/tasks/<int:task_id>/assign"): Row(
        "/tasks/{task}/assign", "302 403 403 403 302 302 403 302", form={"user": "sam"}
    ),
    ("POST", "/tasks/<int:task_id>/acknowledge"): Row(
        "/tasks/{task}/acknowledge", same(302, 302), form={}
    ),
    ("GET", "/admin/integration-errors"): Row(
        "/admin/integration-errors", "403 403 403 403 403 200 403 302"
    ),
    ("GET", "/admin/on-call"): Row("/admin/on-call", "403 403 403 403 200 200 403 302"),
    ("POST", "/admin/on-call"): Row("/admin/on-call", "403 403 403 403 422 422 403 302", form={}),
    ("POST", "/admin/on-call/<int:shift_id>/delete"): Row(
        "/admin/on-call/999999/delete", "403 403 403 403 404 404 403 302", form={}
    ),
    ("GET", "/reports/break-glass"): Row("/reports/break-glass", "403 403 403 403 200 200 403 302"),
    ("GET", "/reports"): Row("/reports", "403 403 403 403 200 200 403 302"),
    ("GET", "/reports/<name>/cases"): Row(
        "/reports/tasks/cases?from=2026-03-02&to=2026-03-02&row=0",
        "403 403 403 403 200 200 403 302",
    ),
    ("GET", "/admin/lockouts"): Row("/admin/lockouts", "403 403 403 403 403 200 403 302"),
    ("POST", "/admin/lockouts/<username>/unlock"): Row(
        "/admin/lockouts/alex/unlock", "403 403 403 403 403 302 403 302", form={}
    ),
    ("GET", "/admin/processes"): Row("/admin/processes", "403 403 403 403 403 200 403 302"),
    ("POST", "/admin/processes"): Row(
        "/admin/processes", "403 403 403 403 403 302 403 302", form={}
    ),
    ("GET", "/admin/processes/<int:definition_id>"): Row(
        "/admin/processes/{definition}", "403 403 403 403 403 200 403 302"
    ),
    ("GET", "/admin/processes/<int:definition_id>/download"): Row(
        "/admin/processes/{definition}/download", "403 403 403 403 403 200 403 302"
    ),
    # ---- pages: process studio (designers edit; everyone signed in may compare diagrams)
    ("GET", "/admin/processes/new"): Row("/admin/processes/new", "403 403 403 403 403 200 403 302"),
    ("GET", "/admin/processes/<key>/edit"): Row(
        "/admin/processes/care_pathway/edit", "403 403 403 403 403 200 403 302"
    ),
    ("GET", "/admin/processes/<key>/compare"): Row(
        "/admin/processes/care_pathway/compare?old={definition}&new={definition}", PAGE_ANY
    ),
}


@dataclass(frozen=True)
class World:
    ids: dict[str, int]
    client: Callable[[str], FlaskClient]  # a fresh client signed in as that caller


@pytest.fixture
def world(app, session: Session, clock: FrozenClock) -> World:  # type: ignore[no-untyped-def]
    users = {
        "sw": factories.SocialWorkerFactory(username="alex"),
        "nurse": factories.NurseFactory(username="kim"),
        "physician": factories.UserFactory(username="patel", role_keys=("physician",)),
        "cm": factories.UserFactory(username="jordan", role_keys=("case_manager",)),
        "supervisor": factories.SupervisorFactory(username="morgan"),
        "admin": factories.AdminFactory(username="admin"),
        "colleague": factories.SocialWorkerFactory(username="sam"),
    }
    case, started = cases.open_case(
        session,
        client=factories.client_payload(),
        reason="Discharge planning",
        actor=users["sw"],
        clock=clock,
    )
    member = factories.CareTeamMemberFactory(
        case_id=case.id, user_id=users["nurse"].id, case_role="nurse"
    )
    factories.CareTeamMemberFactory(
        case_id=case.id, user_id=users["cm"].id, case_role="case_manager"
    )
    consent = referrals.record_consent(
        session, client_id=case.client_id, recipient="Food Bank", actor=None, clock=clock
    )
    definition = definitions.latest_definition(session, "care_pathway")
    note = notes.write_note(
        session,
        case_id=case.id,
        payload={"type": "other", "body": "First visit."},
        actor=users["sw"],
        clock=clock,
    ).note
    session.commit()
    ids = {
        "case": case.id,
        "client": case.client_id,
        "instance": started.instance.id,
        "task": started.created_tasks[0].id,
        "member": member.id,
        "consent": consent.id,
        "definition": definition.id,
        "note": note.id,
    }

    def client(who: str) -> FlaskClient:
        # Fresh per request: a row such as /logout must not sign the caller out of the next.
        fresh = app.test_client()
        return fresh if who == "anon" else sign_in(fresh, users[who])

    return World(ids, client)


def _routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_row_in_the_matrix(app):
    routes = _routes(app)
    assert sorted(routes - MATRIX.keys()) == [], "add these routes to MATRIX"
    assert sorted(MATRIX.keys() - routes) == [], "these rows name routes that do not exist"


def _call(client: FlaskClient, method: str, row: Row, ids: dict[str, int]) -> int:
    url = row.url.format(**ids)
    send: Callable[..., Any] = getattr(client, method.lower())
    if row.form is not None:
        response = send(url, data=row.form)
    elif row.json is not None:
        response = send(url, json=row.json)
    else:
        response = send(url)
    response.close()  # a static file's response holds the file open
    return response.status_code  # type: ignore[no-any-return]


def test_every_role_gets_the_expected_status_on_every_route(world: World, session: Session) -> None:
    wrong = []
    for (method, rule), row in sorted(MATRIX.items(), key=lambda item: item[0][1]):
        expected = [int(code) for code in row.codes.split()]
        assert len(expected) == len(CALLERS), rule
        for who, want in zip(CALLERS, expected, strict=True):
            # On the connection, not the Session: a Session's SAVEPOINT waits for its next
            # statement, and the app's requests run on this connection in SAVEPOINTs of
            # their own.
            savepoint = session.connection().begin_nested()
            try:
                got = _call(world.client(who), method, row, world.ids)
            finally:
                savepoint.rollback()
            if got != want:
                wrong.append(f"{method} {rule} as {who}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)
