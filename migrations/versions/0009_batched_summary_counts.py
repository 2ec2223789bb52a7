"""A submission's summary counts are added in batches: submissions.summarized.

Every row stored until now is already counted in the summary rollups, so the column starts
true; posts from now on store false, and the summary page and the worker count them (see
app/services/rollups.py). A partial index finds those few rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: SQLite's batch mode would copy the table and lose
    # the search index's triggers.
    op.add_column(
        "submissions",
        sa.Column("summarized", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    condition = sa.text("NOT summarized")
    op.create_index(
        "ix_submissions_unsummarized",
        "submissions",
        ["form_id"],
        sqlite_where=condition,
        postgresql_where=condition,
    )


def downgrade():
    # Rows not yet counted would be lost to the summary: run `flask submissions
    # rebuild-summaries` after going back.
    op.drop_index("ix_submissions_unsummarized", table_name="submissions")
    op.execute("ALTER TABLE submissions DROP COLUMN summarized")  # native on SQLite >= 3.35
