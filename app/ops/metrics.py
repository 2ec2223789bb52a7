"""Prometheus metrics, served at /metrics when METRICS_TOKEN is set (else nothing is imported
or counted): request latency by endpoint, submissions by outcome and delivery failures,
counted as they happen; the outbox and the workers' heartbeat, read from the database at each
scrape so any process reports the same.

Under several gunicorn workers each process counts on its own; with PROMETHEUS_MULTIPROC_DIR
set, prometheus_client keeps every process's counts in files there and a scrape of any one
adds them all up (its "multiprocess mode"). No multiprocess gauges are used, so no gunicorn
hook is needed to forget dead workers.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator

from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask.wrappers import Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from app.extensions import db
from app.models.types import utcnow
from app.ops.counters import EXTENSION
from app.services.delivery import backlog

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# From a cached public page (a few ms) to a large export.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # a 404 or 405 before any endpoint: never the raw path


class Metrics:
    """The counters of one app; ``registry`` gathers them when there is one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "formyard_request_duration_seconds",
            "Time to answer a request, by Flask endpoint and method.",
            ["endpoint", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.submissions = Counter(
            "formyard_submissions",
            "Submissions by outcome: accepted, spam (kept in the spam folder) or rejected.",
            ["outcome"],
            registry=self.registry,
        )
        self.delivery_failures = Counter(
            "formyard_delivery_failures",
            "Failed attempts at sending an email or calling a webhook, by kind.",
            ["kind"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        """Everything in the Prometheus text format: the counts of this process (or of all,
        in multiprocess mode), then the figures read from the database now."""
        directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
        if directory:
            counted = CollectorRegistry()
            MultiProcessCollector(counted, path=directory)
        else:
            counted = self.registry
        from_database = CollectorRegistry()
        from_database.register(OutboxCollector())
        return generate_latest(counted) + generate_latest(from_database)


class OutboxCollector(Collector):
    """Gauges computed at scrape time from the outbox and the heartbeats table."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        state = backlog.outbox_state(now)
        failed = backlog.failed_by_kind()
        last_seen = backlog.last_heartbeat()
        db.session.rollback()
        yield _gauge("formyard_outbox_depth", "Deliveries waiting to be sent.", state.depth)
        yield _gauge(
            "formyard_outbox_oldest_age_seconds",
            "Age of the oldest delivery not yet sent (0 when none waits).",
            state.oldest_age() or 0.0,
        )
        yield _gauge(
            "formyard_outbox_overdue_seconds",
            "How long the most overdue delivery has been due without a worker taking it.",
            state.overdue_for() or 0.0,
        )
        given_up = GaugeMetricFamily(
            "formyard_deliveries_failed",
            "Deliveries given up on (out of tries, or their webhook disabled), kept 30 days.",
            labels=["kind"],
        )
        for kind, count in failed.items():
            given_up.add_metric([kind.value], count)
        yield given_up
        yield _gauge(
            "formyard_worker_last_heartbeat_timestamp_seconds",
            "When a `flask worker` last went round its loop (Unix time; 0: none in a day).",
            last_seen.timestamp() if last_seen else 0.0,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


# --- wiring ------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Count requests when metrics are on; under multiprocess mode, make sure the folder is
    there before the first count is written."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if directory:
        os.makedirs(directory, exist_ok=True)
    app.extensions[EXTENSION] = Metrics()
    app.after_request(observe_request)


def observe_request(response: Response) -> Response:
    started = g.get("request_started")
    if started is not None:
        metrics: Metrics = current_app.extensions[EXTENSION]
        metrics.request_seconds.labels(request.endpoint or UNMATCHED, request.method).observe(
            time.perf_counter() - started
        )
    return response


def token_matches(header: str, token: str) -> bool:
    """Whether an Authorization header carries ``token`` as a Bearer token; constant time."""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def scrape() -> tuple[bytes, str]:
    metrics: Metrics = current_app.extensions[EXTENSION]
    return metrics.render(), CONTENT_TYPE_LATEST
