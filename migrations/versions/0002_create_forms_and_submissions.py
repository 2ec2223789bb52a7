"""Create forms, form versions, submissions, stored files and endpoint keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def timestamp(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("built", "endpoint", name="formkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("draft", "open", "closed", name="formstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("draft_fields", JSON, nullable=False),
        sa.Column("has_unpublished_changes", sa.Boolean(), nullable=False),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        timestamp("closes_at", nullable=True),
        sa.Column("max_responses", sa.Integer(), nullable=True),
        sa.Column("confirmation_message", sa.Text(), nullable=False),
        sa.Column("redirect_url", sa.String(length=2000), nullable=True),
        sa.Column("submit_label", sa.String(length=100), nullable=False),
        sa.Column("one_response_per_browser", sa.Boolean(), nullable=False),
        sa.Column("allowed_origins", JSON, nullable=False),
        sa.Column("submission_count", sa.Integer(), nullable=False),
        timestamp("last_submission_at", nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        timestamp("deleted_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_forms_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint("slug", name=op.f("uq_forms_slug")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_forms_deleted_at"), "forms", ["deleted_at"])

    op.create_table(
        "form_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("schema", JSON, nullable=False),
        timestamp("published_at"),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_form_versions_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_form_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_versions")),
        sa.UniqueConstraint("form_id", "number", name=op.f("uq_form_versions_form_id_number")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_form_versions_form_id"), "form_versions", ["form_id"])

    # forms and form_versions point at each other; the second link is added once both exist.
    with op.batch_alter_table("forms") as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_forms_published_version_id_form_versions"),
            "form_versions",
            ["published_version_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "endpoint_keys",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        timestamp("first_seen_at"),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_endpoint_keys_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("form_id", "key", name=op.f("pk_endpoint_keys")),
    )

    op.create_table(
        "submissions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("meta", JSON, nullable=False),
        timestamp("created_at"),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("is_spam", sa.Boolean(), nullable=False),
        sa.Column("spam_reason", sa.String(length=32), nullable=True),
        sa.Column("is_read", sa.Boolean(), nullable=False),
        sa.Column("is_starred", sa.Boolean(), nullable=False),
        timestamp("deleted_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_submissions_form_id_forms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["form_versions.id"],
            name=op.f("fk_submissions_version_id_form_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint(
            "form_id", "idempotency_key", name=op.f("uq_submissions_form_id_idempotency_key")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_submissions_form_id_created_at_id", "submissions", ["form_id", "created_at", "id"]
    )

    op.create_table(
        "stored_files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", BIG_ID, nullable=True),
        sa.Column("field_key", sa.String(length=63), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(length=20), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_stored_files_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_stored_files_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
    )
    op.create_index(op.f("ix_stored_files_form_id"), "stored_files", ["form_id"])
    op.create_index(op.f("ix_stored_files_submission_id"), "stored_files", ["submission_id"])


def downgrade():
    op.drop_table("stored_files")
    op.drop_table("submissions")
    op.drop_table("endpoint_keys")
    with op.batch_alter_table("forms") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_forms_published_version_id_form_versions"), type_="foreignkey"
        )
    op.drop_table("form_versions")
    op.drop_table("forms")
