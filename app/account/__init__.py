"""A signed-in person's own settings: name, time zone, password, two-step verification,
API tokens."""

from flask import Blueprint

from app.auth.session import require_role
from app.models import Role

bp = Blueprint("account", __name__)
bp.before_request(require_role(Role.VIEWER))

from app.account import routes  # noqa: E402,F401
from app.account import two_step_routes  # noqa: E402,F401
