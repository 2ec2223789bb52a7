"""Two-step verification: the authenticator app's encrypted secret and last accepted
time-step on users, recovery codes, and site settings (the two-step policy).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def timestamp(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    # Plain ADD COLUMNs on both databases: SQLite's batch mode would copy the table.
    op.add_column("users", sa.Column("totp_secret_encrypted", sa.String(255), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column("users", timestamp("totp_enabled_at", nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        timestamp("created_at"),
        timestamp("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])
    op.create_table(
        "site_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_settings")),
    )


def downgrade():
    op.drop_table("site_settings")
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_column("users", "totp_enabled_at")
    op.drop_column("users", "totp_last_step")
    op.drop_column("users", "totp_secret_encrypted")
