"""SQLite's search index is filled in batches before a search, not by a trigger per submission.

The insert trigger goes; a one-row table keeps the highest submission id indexed, and the
delete and update triggers touch the index only for rows it holds (see
app/models/search_index.py, which must stay the same). Every existing row is already indexed,
so the mark starts at the highest id. PostgreSQL is unchanged.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

# ruff: noqa: S608 -- SQL here is assembled from this module's constants, never from input.

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ANSWER_TEXT = "(SELECT group_concat(value, ' ') FROM json_tree({row}.answers) WHERE type = 'text')"
INDEXED_THROUGH = "(SELECT indexed_through FROM submissions_fts_state)"


def _triggers(condition: str) -> list[str]:
    return [
        f"""CREATE TRIGGER submissions_fts_delete AFTER DELETE ON submissions
{condition}BEGIN
  INSERT INTO submissions_fts(submissions_fts, rowid, body)
  VALUES ('delete', old.id, {ANSWER_TEXT.format(row="old")});
END""",
        f"""CREATE TRIGGER submissions_fts_update AFTER UPDATE OF answers ON submissions
{condition}BEGIN
  INSERT INTO submissions_fts(submissions_fts, rowid, body)
  VALUES ('delete', old.id, {ANSWER_TEXT.format(row="old")});
  INSERT INTO submissions_fts(rowid, body) VALUES (new.id, {ANSWER_TEXT.format(row="new")});
END""",
    ]


def _drop_triggers() -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS submissions_fts_{trigger}")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_triggers()
    op.execute(
        "CREATE TABLE submissions_fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "indexed_through INTEGER NOT NULL)"
    )
    op.execute(
        "INSERT INTO submissions_fts_state (id, indexed_through) "
        "SELECT 1, coalesce(max(id), 0) FROM submissions"
    )
    for statement in _triggers(f"WHEN old.id <= {INDEXED_THROUGH} "):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    # Index what the batches have not reached yet, then go back to a trigger per row.
    op.execute(
        f"INSERT INTO submissions_fts(rowid, body) SELECT id, {ANSWER_TEXT.format(row='submissions')} "
        f"FROM submissions WHERE id > {INDEXED_THROUGH}"
    )
    _drop_triggers()
    op.execute("DROP TABLE submissions_fts_state")
    op.execute(
        "CREATE TRIGGER submissions_fts_insert AFTER INSERT ON submissions BEGIN\n"
        f"  INSERT INTO submissions_fts(rowid, body) VALUES (new.id, {ANSWER_TEXT.format(row='new')});\n"
        "END"
    )
    for statement in _triggers(""):
        op.execute(statement)
