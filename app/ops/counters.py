"""Counting for /metrics from anywhere without importing prometheus_client when metrics are off
(app/ops/metrics.py puts its counters in ``app.extensions`` only when METRICS_TOKEN is set)."""

from __future__ import annotations

from flask import Flask
from flask import current_app

EXTENSION = "formyard_metrics"


def count(counter: str, label: str, app: Flask | None = None) -> None:
    """Add one to ``counter`` (``submissions`` or ``delivery_failures``) with ``label``."""
    metrics = (app or current_app).extensions.get(EXTENSION)
    if metrics is not None:
        getattr(metrics, counter).labels(label).inc()
