"""The signed-in home page."""

from flask import Blueprint

from app.auth.session import require_role
from app.models import Role

bp = Blueprint("dashboard", __name__)
bp.before_request(require_role(Role.VIEWER))

from app.dashboard import routes  # noqa: E402,F401
