"""The owner's management of who may sign in and with which role."""

from flask import Blueprint

from app.auth.session import require_role
from app.models import Role

bp = Blueprint("users", __name__)
bp.before_request(require_role(Role.OWNER))

from app.users import routes  # noqa: E402,F401
