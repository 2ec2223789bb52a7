"""Liveness and readiness probes for the platform's router and for people."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from app.health import routes  # noqa: E402,F401
