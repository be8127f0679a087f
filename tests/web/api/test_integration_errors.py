"""The integration-errors list: what the interfaces sent that could not be applied."""

from __future__ import annotations

from engine.integration.models import IntegrationError
from tests import factories
from tests.web.pages.conftest import sign_in


def _error(session, clock) -> IntegrationError:  # type: ignore[no-untyped-def]
    row = IntegrationError(
        source="hl7",
        control_id="C-5",
        message_type="ADT^A03",
        code="hl7_unknown_mrn",
        message="Unknown MRN: no such client.",
        at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def test_admins_list_the_errors(client, session, clock, api_as) -> None:
    _error(session, clock)
    admin = factories.AdminFactory()
    body = client.get("/api/v1/integration-errors", headers=api_as(admin)).get_json()
    assert [(e["control_id"], e["code"]) for e in body["errors"]] == [("C-5", "hl7_unknown_mrn")]


def test_a_social_worker_may_not_list_them(client, api_as) -> None:
    worker = factories.SocialWorkerFactory()
    response = client.get("/api/v1/integration-errors", headers=api_as(worker))
    assert response.status_code == 403


def test_the_admin_page_shows_the_reason(client, session, clock) -> None:
    _error(session, clock)
    admin = factories.AdminFactory()
    page = sign_in(client, admin).get("/admin/integration-errors")
    assert page.status_code == 200
    assert "Unknown MRN" in page.get_data(as_text=True)
