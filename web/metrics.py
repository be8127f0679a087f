"""Prometheus metrics: request counts and latencies (before/after request hooks) and inbox and
scheduler gauges computed on each scrape from engine reads.

Each app gets its own CollectorRegistry (tests build many apps; the global registry would
refuse the second set of metric names). Under gunicorn each worker counts its own requests;
the gauges read the database and so agree across workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from flask.sansio.app import App
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from engine import notifications, tasks_view, timers
from engine.errors import Conflict
from engine.uow import UnitOfWork
from web.deps import Deps

log = logging.getLogger(__name__)

EXTENSION = "carebridge_metrics"
# Latency buckets for an interactive app: the inbox target is 30 ms, a completion ~100 ms.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram


class WorkGauges(Collector):
    """Open tasks by role, overdue tasks and timer lag, read from the database at scrape time."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "carebridge_database_up", "1 when the database answered this scrape."
        )
        try:
            now = self._deps.clock.now()
            with UnitOfWork(self._deps.sessions) as uow:
                by_role = tasks_view.open_tasks_by_role(uow.session)
                overdue = tasks_view.overdue_count(uow.session, now=now)
                lag = timers.timer_lag_seconds(uow.session, now=now)
                alerts = notifications.status_counts(uow.session)
        except (SQLAlchemyError, Conflict):
            log.exception("metrics: the database did not answer")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        open_tasks = GaugeMetricFamily(
            "carebridge_open_tasks", "Open human tasks by role queue.", labels=["role"]
        )
        for role, count in sorted(by_role.items()):
            open_tasks.add_metric([role], count)
        yield open_tasks
        by_status = GaugeMetricFamily(
            "carebridge_notifications",
            "Alert deliveries (one per channel) by status: pending, sent, failed.",
            labels=["status"],
        )
        for status, count in alerts.items():
            by_status.add_metric([status], count)
        yield by_status
        yield GaugeMetricFamily(
            "carebridge_overdue_tasks", "Open human tasks past their due time.", value=overdue
        )
        yield GaugeMetricFamily(
            "carebridge_timer_lag_seconds",
            "How late the most overdue waiting timer is (0 when none).",
            value=lag,
        )


def init_app(app: App) -> None:
    """Create the app's registry and install the request hooks. Idempotent per app."""
    if EXTENSION in app.extensions:
        return
    registry = CollectorRegistry(auto_describe=True)
    metrics = Metrics(
        registry=registry,
        requests=Counter(
            "carebridge_http_requests",
            "HTTP requests by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        ),
        latency=Histogram(
            "carebridge_http_request_duration_seconds",
            "HTTP request latency by endpoint, method and status.",
            ["endpoint", "method", "status"],
            buckets=BUCKETS,
            registry=registry,
        ),
    )
    registry.register(WorkGauges(app.extensions["carebridge"]))
    app.extensions[EXTENSION] = metrics
    app.before_request(_start_timer)
    app.after_request(_observe)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    metrics: Metrics | None = current_app.extensions.get(EXTENSION)
    if started is None or metrics is None:
        return response
    # Bounded labels only: the endpoint name, never the raw path (ids and invented paths
    # would grow a series each), and any method outside HTTP's usual few folds into "other".
    method = request.method if request.method in METHODS else "other"
    status = str(response.status_code) if 100 <= response.status_code < 600 else "other"
    labels = (request.endpoint or "other", method, status)
    metrics.requests.labels(*labels).inc()
    metrics.latency.labels(*labels).observe(time.perf_counter() - started)
    return response


def render(app: Flask) -> Response:
    metrics: Metrics = app.extensions[EXTENSION]
    return Response(
        generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )
