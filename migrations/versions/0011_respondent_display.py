"""The respondent's display: one question at a time, a "check your answers" page.

Both are form settings; a partial response keeps the "one question at a time" setting it
started with, as it keeps its version.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = (
    ("forms", "one_question_per_page"),
    ("forms", "check_answers"),
    ("partial_responses", "one_question_per_page"),
)


def upgrade():
    # Plain ADD COLUMNs on both databases: SQLite's batch mode would copy the table.
    for table, name in COLUMNS:
        op.add_column(
            table, sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    for table, name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")  # native on SQLite >= 3.35
