"""The integration-errors list (HL7 / FHIR messages that could not be applied): admins."""

from __future__ import annotations

from typing import Any

from engine import integration
from web.api import bp
from web.api.common import int_arg, iso, require_roles, transaction


@bp.get("/integration-errors")
def integration_errors() -> Any:
    require_roles("admin")
    limit = int_arg("limit", default=200, low=1, high=1000)
    assert limit is not None
    with transaction() as session:
        rows = integration.list_errors(session, limit=limit)
        return {
            "errors": [
                {
                    "id": r.id,
                    "source": r.source,
                    "control_id": r.control_id,
                    "message_type": r.message_type,
                    "code": r.code,
                    "message": r.message,
                    "at": iso(r.at),
                }
                for r in rows
            ]
        }
