"""/admin/integration-errors: what the hospital sent that CareBridge could not apply."""

from __future__ import annotations

from flask import render_template

from engine import integration
from web import deps
from web.auth import login_required, require_roles
from web.pages import bp


@bp.get("/admin/integration-errors")
@login_required
@require_roles("admin")
def integration_errors() -> str:
    with deps.transaction() as session:
        rows = integration.list_errors(session)
        return render_template("pages/integration_errors.html", rows=rows)
