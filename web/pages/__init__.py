"""HTML pages, one module per area, all on the `pages` blueprint."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("pages", __name__)


def register(app: Flask) -> None:
    # Imported for their side effect: each module adds its views to bp.
    from web.pages import (  # noqa: F401
        admin,
        admin_lockouts,
        cases,
        common,
        inbox,
        integration,
        login,
        oncall,
        record,
        referral_link,
        reports,
        reports_dashboard,
        screenings,
        studio,
        tasks,
        team,
    )

    app.register_blueprint(bp)
