"""The owners' audit log: who did what, with filters, pages and exports."""

from flask import Blueprint

from app.auth.session import require_role
from app.models import Role

bp = Blueprint("audit", __name__)
bp.before_request(require_role(Role.OWNER))

from app.audit import routes  # noqa: E402,F401
