"""Inbox: folder indexes on submissions, full-text search over answers, form view counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Partial indexes in the order of the main (form_id, created_at, id) index: each small folder
# is listed newest first by reading only its own rows.
FOLDER_INDEXES = {
    "ix_submissions_spam": ("is_spam = 1", "is_spam"),
    "ix_submissions_trash": ("deleted_at IS NOT NULL", "deleted_at IS NOT NULL"),
    "ix_submissions_starred": ("is_starred = 1", "is_starred"),
    "ix_submissions_unread": (
        "is_read = 0 AND is_spam = 0 AND deleted_at IS NULL",
        "NOT is_read AND NOT is_spam AND deleted_at IS NULL",
    ),
}

# Full-text search over answers (see app/models/search_index.py, which must stay the same):
# SQLite keeps an FTS5 table filled by triggers; PostgreSQL a GIN index over a tsvector.
SQLITE_DDL = (
    "CREATE VIRTUAL TABLE submissions_fts USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2')",
    "\nCREATE TRIGGER submissions_fts_insert AFTER INSERT ON submissions BEGIN\n  INSERT INTO submissions_fts(rowid, body) VALUES (new.id, (SELECT group_concat(value, ' ') FROM json_tree(new.answers) WHERE type = 'text'));\nEND",
    "CREATE TRIGGER submissions_fts_delete AFTER DELETE ON submissions BEGIN\n  INSERT INTO submissions_fts(submissions_fts, rowid, body)\n  VALUES ('delete', old.id, (SELECT group_concat(value, ' ') FROM json_tree(old.answers) WHERE type = 'text'));\nEND",
    "CREATE TRIGGER submissions_fts_update AFTER UPDATE OF answers ON submissions BEGIN\n  INSERT INTO submissions_fts(submissions_fts, rowid, body)\n  VALUES ('delete', old.id, (SELECT group_concat(value, ' ') FROM json_tree(old.answers) WHERE type = 'text'));\n  INSERT INTO submissions_fts(rowid, body) VALUES (new.id, (SELECT group_concat(value, ' ') FROM json_tree(new.answers) WHERE type = 'text'));\nEND",
)
POSTGRESQL_DDL = (
    "CREATE INDEX ix_submissions_search ON submissions USING gin (jsonb_to_tsvector('simple'::regconfig, answers, '[\"string\"]'::jsonb))",
)


def upgrade():
    op.create_table(
        "form_view_counts",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_form_view_counts_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("form_id", "hour", name=op.f("pk_form_view_counts")),
    )
    for name, (sqlite_where, postgresql_where) in FOLDER_INDEXES.items():
        op.create_index(
            name,
            "submissions",
            ["form_id", "created_at", "id"],
            sqlite_where=sa.text(sqlite_where),
            postgresql_where=sa.text(postgresql_where),
        )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DDL:
            op.execute(statement)
        # Index what is already stored.
        op.execute(
            "INSERT INTO submissions_fts(rowid, body) SELECT id, "
            "(SELECT group_concat(value, ' ') FROM json_tree(submissions.answers) "
            "WHERE type = 'text') FROM submissions"
        )
    elif dialect == "postgresql":
        for statement in POSTGRESQL_DDL:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS submissions_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS submissions_fts")
    elif dialect == "postgresql":
        op.drop_index("ix_submissions_search", table_name="submissions")
    for name in FOLDER_INDEXES:
        op.drop_index(name, table_name="submissions")
    op.drop_table("form_view_counts")
