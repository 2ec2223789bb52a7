"""Data stewardship: the audit log, and how long a form keeps its submissions.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.add_column("forms", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.add_column(
        "forms", sa.Column("forward_only", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "actor_kind",
            sa.Enum("user", "token", "system", name="actorkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_kind", sa.String(length=30), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("target_label", sa.String(length=300), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum("ok", "refused", name="outcome", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_audit_entries_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_created_at"), "audit_entries", ["created_at"])
    op.create_index("ix_audit_entries_action_id", "audit_entries", ["action", "id"])
    op.create_index("ix_audit_entries_form_id_id", "audit_entries", ["form_id", "id"])
    op.create_index("ix_audit_entries_actor_user_id_id", "audit_entries", ["actor_user_id", "id"])


def downgrade():
    op.drop_table("audit_entries")
    op.drop_column("forms", "forward_only")
    op.drop_column("forms", "retention_days")
