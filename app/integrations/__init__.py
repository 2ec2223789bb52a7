"""Per form: who is emailed about new submissions, and the webhooks that are called."""

from flask import Blueprint

from app.auth.session import require_role
from app.models import Role

bp = Blueprint("integrations", __name__)
bp.before_request(require_role(Role.EDITOR))

from app.integrations import routes  # noqa: E402,F401
