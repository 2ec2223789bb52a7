"""Form flow: a draft's named conditions, the flow settings, partial responses.

A draft's pages are its page breaks, among its fields; published versions keep their pages
inside their schema (absent: one page), so they need no change.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def timestamp(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    # Plain ADD COLUMNs on both databases: SQLite's batch mode would copy the table.
    op.add_column("forms", sa.Column("draft_conditions", JSON, nullable=True))
    op.add_column(
        "forms", sa.Column("allow_saving", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "forms", sa.Column("resume_days", sa.Integer(), server_default="30", nullable=False)
    )
    op.create_table(
        "partial_responses",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("path", JSON, nullable=False),
        sa.Column("browser_token_hash", sa.String(length=64), nullable=False),
        sa.Column("resume_token_hash", sa.String(length=64), nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        timestamp("expires_at"),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_partial_responses_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["form_versions.id"],
            name=op.f("fk_partial_responses_version_id_form_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partial_responses")),
        sa.UniqueConstraint(
            "browser_token_hash", name=op.f("uq_partial_responses_browser_token_hash")
        ),
        sa.UniqueConstraint(
            "resume_token_hash", name=op.f("uq_partial_responses_resume_token_hash")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_partial_responses_form_id_updated_at_id",
        "partial_responses",
        ["form_id", "updated_at", "id"],
    )
    op.create_index(op.f("ix_partial_responses_expires_at"), "partial_responses", ["expires_at"])


def downgrade():
    op.drop_index(op.f("ix_partial_responses_expires_at"), table_name="partial_responses")
    op.drop_index("ix_partial_responses_form_id_updated_at_id", table_name="partial_responses")
    op.drop_table("partial_responses")
    for name in (
        "resume_days",
        "allow_saving",
        "draft_conditions",
    ):
        op.execute(f"ALTER TABLE forms DROP COLUMN {name}")  # native on SQLite >= 3.35
