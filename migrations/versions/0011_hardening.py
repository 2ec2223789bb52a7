"""Hardening: the kinds of file a static-site form keeps; idempotency keys' request
fingerprints and the claims of requests in flight.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# app.fields.filekinds.ENDPOINT_DEFAULT_KINDS when this was written; existing forms get it.
ENDPOINT_DEFAULT_KINDS = ["image", "pdf", "document", "spreadsheet", "text"]


def upgrade():
    # Plain ADD COLUMNs on both databases: SQLite's batch mode would copy the table.
    op.add_column(
        "forms",
        sa.Column(
            "endpoint_file_kinds",
            JSON,
            server_default=sa.text(f"'{json.dumps(ENDPOINT_DEFAULT_KINDS)}'"),
            nullable=False,
        ),
    )


def downgrade():
    op.drop_column("forms", "endpoint_file_kinds")
