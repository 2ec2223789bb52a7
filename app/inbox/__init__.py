"""Reading what came in: submissions and their files."""

from flask import Blueprint

from app.auth.session import require_role
from app.models import Role

bp = Blueprint("inbox", __name__)
bp.before_request(require_role(Role.VIEWER))

from app.inbox import in_progress  # noqa: E402,F401
from app.inbox import routes  # noqa: E402,F401
