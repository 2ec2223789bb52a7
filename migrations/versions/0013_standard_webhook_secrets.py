"""Webhook secrets in the Standard Webhooks format, with the keys they had.

Secrets made before were ``whsec_`` and random URL-safe text, and that whole text was the HMAC
key. Standard Webhooks reads ``whsec_<base64>`` as the base64 of the key, so each old secret
becomes ``whsec_`` and the base64 of its own text: the key bytes do not change, and neither do
the deprecated ``X-Formyard-Signature`` values existing receivers check. A receiver moving to a
``standardwebhooks`` library uses the new form, which README's webhooks section shows how to
compute from the old secret (or makes a new secret).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import base64
import binascii

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PREFIX = "whsec_"
endpoints = sa.table(
    "webhook_endpoints", sa.column("id", sa.Integer), sa.column("secret", sa.String(100))
)


def upgrade():
    _rewrite(_standard)


def downgrade():
    _rewrite(_legacy)


def _rewrite(convert):
    connection = op.get_bind()
    rows = connection.execute(sa.select(endpoints.c.id, endpoints.c.secret)).all()
    for endpoint_id, secret in rows:
        converted = convert(secret)
        if converted != secret:
            connection.execute(
                endpoints.update().where(endpoints.c.id == endpoint_id).values(secret=converted)
            )


def _standard(secret: str) -> str:
    """An old secret's Standard Webhooks form; one already in that form (valid base64, which
    the 43 characters of an old one never are) is kept."""
    try:
        base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error:
        return PREFIX + base64.b64encode(secret.encode()).decode()
    return secret


def _legacy(secret: str) -> str:
    """The old secret a converted one encodes; any other secret is kept."""
    try:
        decoded = base64.b64decode(secret.removeprefix(PREFIX), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return secret
    return decoded if decoded.startswith(PREFIX) else secret
