"""Retention: how long each form keeps its submissions, what the next run deletes, the run,
and forward-only forms, whose submissions go once delivered."""

from app.services.retention.policy import Preview
from app.services.retention.policy import RunCounts
from app.services.retention.policy import days_kept
from app.services.retention.policy import forget_if_forwarded
from app.services.retention.policy import last_run_at
from app.services.retention.policy import preview
from app.services.retention.policy import run

__all__ = [
    "Preview",
    "RunCounts",
    "days_kept",
    "forget_if_forwarded",
    "last_run_at",
    "preview",
    "run",
]
