"""Hardening: the kinds of file a static-site form keeps; idempotency keys' request
fingerprints and the claims of requests in flight.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
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
    # Submissions stored before have none, and match any request with their key.
    op.add_column(
        "submissions", sa.Column("idempotency_fingerprint", sa.String(length=64), nullable=True)
    )
    op.create_table(
        "idempotency_claims",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_idempotency_claims_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("form_id", "key", name=op.f("pk_idempotency_claims")),
    )


def downgrade():
    op.drop_table("idempotency_claims")
    op.drop_column("submissions", "idempotency_fingerprint")
    op.drop_column("forms", "endpoint_file_kinds")
