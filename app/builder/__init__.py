"""The builder: editors and owners make forms, their fields and settings; viewers see the list."""

from flask import Blueprint

from app.auth.session import require_role
from app.models import Role

bp = Blueprint("builder", __name__)
bp.before_request(require_role(Role.VIEWER))

from app.builder import routes  # noqa: E402,F401
