"""Worker heartbeats: when each `flask worker` last went round its loop.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )
    op.create_index(
        op.f("ix_worker_heartbeats_seen_at"), "worker_heartbeats", ["seen_at"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_worker_heartbeats_seen_at"), table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
