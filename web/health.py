"""Root-level operational endpoints: /healthz (load balancers) and /metrics (Prometheus).

Both answer without signing in: they carry counts only, never patient data. Deployments
that expose the app publicly should keep /metrics to the internal network at the proxy."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app
from flask.blueprints import BlueprintSetupState
from sqlalchemy.exc import SQLAlchemyError

from engine import tasks_view
from engine.errors import Conflict
from web import deps, metrics

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.record_once
def _install_metrics(state: BlueprintSetupState) -> None:
    metrics.init_app(state.app)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        with deps.transaction() as session:
            tasks_view.database_ok(session)
    except (SQLAlchemyError, Conflict):  # Conflict: locked past the busy timeout
        log.exception("healthz: the database did not answer")
        return {"status": "error", "database": "unavailable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/metrics")
def metrics_text() -> Any:
    return metrics.render(current_app._get_current_object())  # type: ignore[attr-defined]
