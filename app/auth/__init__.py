"""First-run setup, signing in and out."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402,F401  (routes register themselves on bp)
from app.auth import two_step_routes  # noqa: E402,F401
