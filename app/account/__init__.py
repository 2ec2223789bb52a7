"""A signed-in person's own settings: name, time zone, password."""

from flask import Blueprint

from app.auth.session import require_role
from app.models import Role

bp = Blueprint("account", __name__)
bp.before_request(require_role(Role.VIEWER))

from app.account import routes  # noqa: E402,F401
