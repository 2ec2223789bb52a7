"""Spam: a submission's spam score and reasons, a form's spam threshold and whether it requires
proof of work, and the proof-of-work challenges already used.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    # Plain ADD COLUMNs on both databases: SQLite's batch mode would copy the table.
    op.add_column("submissions", sa.Column("spam_score", sa.Integer(), nullable=True))
    op.add_column("submissions", sa.Column("spam_reasons", JSON, nullable=True))
    op.add_column(
        "forms",
        sa.Column("spam_threshold", sa.Integer(), server_default=sa.text("50"), nullable=False),
    )
    op.add_column(
        "forms",
        sa.Column("require_proof_of_work", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "used_challenges",
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_used_challenges")),
    )
    op.create_index(
        op.f("ix_used_challenges_expires_at"), "used_challenges", ["expires_at"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_used_challenges_expires_at"), table_name="used_challenges")
    op.drop_table("used_challenges")
    op.drop_column("forms", "require_proof_of_work")
    op.drop_column("forms", "spam_threshold")
    op.drop_column("submissions", "spam_reasons")
    op.drop_column("submissions", "spam_score")
