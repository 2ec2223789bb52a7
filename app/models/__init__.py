"""Typed SQLAlchemy models, one module per aggregate. Import them here so Alembic sees them all."""

from app.models.user import Role
from app.models.user import User

__all__ = ["Role", "User"]
