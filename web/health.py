"""Root-level operational endpoints: /healthz (load balancers) and /metrics (Prometheus).

/healthz answers anyone (status only). /metrics carries counts only, never patient data, but
still tells an outsider how busy each queue is: with CAREBRIDGE_METRICS_TOKEN set it wants
`Authorization: Bearer <that token>`; without it, only a loopback client is answered (a
deployment behind a proxy on the same host should set the token, since every request then
arrives from loopback)."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, Response, current_app, request
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


LOOPBACK = ("127.0.0.1", "::1")


def _metrics_allowed() -> bool:
    expected = deps.deps().settings.metrics_token
    if expected:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.startswith("Bearer ") else ""
        return hmac.compare_digest(given.encode(), expected.encode())
    return request.remote_addr in LOOPBACK


@bp.get("/metrics")
def metrics_text() -> Any:
    if not _metrics_allowed():
        return Response(
            "Metrics need the metrics token.\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return metrics.render(current_app._get_current_object())  # type: ignore[attr-defined]
