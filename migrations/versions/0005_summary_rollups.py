"""Summary rollups: per form, UTC day, question and value, the counts the summary page shows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Forms that already have submissions get their rollups from
``flask submissions rebuild-summaries`` once, after this upgrade: building them here would tie
this migration to the code of the day, and would hold the write lock for as long as it reads
every submission.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "summary_rollups",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("field_key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_summary_rollups_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "form_id", "day", "field_key", "value", name=op.f("pk_summary_rollups")
        ),
        sqlite_with_rowid=False,
    )


def downgrade():
    op.drop_table("summary_rollups")
