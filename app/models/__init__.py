"""Typed SQLAlchemy models, one module per aggregate. Import them here so Alembic sees them all."""

from app.models.form import Availability
from app.models.form import EndpointKey
from app.models.form import Form
from app.models.form import FormKind
from app.models.form import FormStatus
from app.models.form import FormVersion
from app.models.submission import SpamReason
from app.models.submission import StoredFile
from app.models.submission import Submission
from app.models.user import Role
from app.models.user import User

__all__ = [
    "Availability",
    "EndpointKey",
    "Form",
    "FormKind",
    "FormStatus",
    "FormVersion",
    "Role",
    "SpamReason",
    "StoredFile",
    "Submission",
    "User",
]
