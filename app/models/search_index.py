"""The full-text index over submissions' answers: database objects the ORM cannot describe.

SQLite keeps an FTS5 table whose rows are the text answers of each submission (rowid = the
submission's id). It is filled in batches, not by a trigger per row: a search first indexes the
submissions stored since the last one (``app/services/submissions/search.py``). Indexing one row per
transaction made FTS5 write a segment per submission, a tenth of what storing one cost. A
one-row table keeps the highest id indexed; the delete trigger removes a row from the index
only if it was indexed, since a contentless FTS5 table must be told exactly what it holds.
PostgreSQL keeps the answers' strings as a ``tsvector`` in a stored generated column, with a
GIN index over it. Stored, not only indexed: a search that walks the newest rows (the planner's
choice for a common word) or rechecks the index's matches then reads the vector instead of
rebuilding it from the JSON, about thirty times cheaper per row.

Migration 0003 creates the same objects; ``create_all`` (tests) gets them from the DDL events
below. ``include_name`` keeps them out of the model-versus-database comparison.
"""

# ruff: noqa: S608 -- SQL here is assembled from this module's constants, never from input.

from __future__ import annotations

from sqlalchemy import DDL
from sqlalchemy import event

from app.models.submission import Submission

FTS_TABLE = "submissions_fts"
SEARCH_INDEX = "ix_submissions_search"
# The text of a submission: its answers' string values, in the order json_tree walks them.
# Answers never change, so the same text can be recomputed to delete a row from the index.
SQLITE_ANSWER_TEXT = (
    "(SELECT group_concat(value, ' ') FROM json_tree({row}.answers) WHERE type = 'text')"
)
FTS_STATE = f"{FTS_TABLE}_state"
INDEXED_THROUGH = f"(SELECT indexed_through FROM {FTS_STATE})"
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "body, content='', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TABLE {FTS_STATE} (id INTEGER PRIMARY KEY CHECK (id = 1), "
    "indexed_through INTEGER NOT NULL)",
    f"INSERT INTO {FTS_STATE} (id, indexed_through) VALUES (1, 0)",
    f"""CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON submissions
WHEN old.id <= {INDEXED_THROUGH} BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body)
  VALUES ('delete', old.id, {SQLITE_ANSWER_TEXT.format(row="old")});
END""",
    f"""CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF answers ON submissions
WHEN old.id <= {INDEXED_THROUGH} BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body)
  VALUES ('delete', old.id, {SQLITE_ANSWER_TEXT.format(row="old")});
  INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.id, {SQLITE_ANSWER_TEXT.format(row="new")});
END""",
)
# What is new goes into the index in batches (the LIMIT parameter), each in a write transaction
# of its own, so progress is kept however many rows wait. Ids only grow (AUTOINCREMENT), so a
# row above the mark has never been indexed.
SQLITE_NEEDS_CATCH_UP = f"SELECT {INDEXED_THROUGH} < (SELECT coalesce(max(id), 0) FROM submissions)"
SQLITE_BATCH_END = (
    "SELECT max(id) FROM (SELECT id FROM submissions "
    f"WHERE id > {INDEXED_THROUGH} ORDER BY id LIMIT ?)"
)
SQLITE_INDEX_BATCH = (
    f"INSERT INTO {FTS_TABLE}(rowid, body) SELECT id, "
    f"{SQLITE_ANSWER_TEXT.format(row='submissions')} FROM submissions "
    f"WHERE id > {INDEXED_THROUGH} AND id <= ? ORDER BY id",
    f"UPDATE {FTS_STATE} SET indexed_through = ? WHERE indexed_through < ?",
)


def index_through(execute, end: int) -> None:
    """Index the rows above the mark up to id ``end`` and move the mark there, in the caller's
    transaction; ``execute(sql, parameters)`` runs one statement on its connection or cursor."""
    insert, mark = SQLITE_INDEX_BATCH
    execute(insert, (end,))
    execute(mark, (end, end))


SQLITE_DROP = (f"DROP TABLE IF EXISTS {FTS_TABLE}", f"DROP TABLE IF EXISTS {FTS_STATE}")
SEARCH_VECTOR = "search_vector"
POSTGRESQL_VECTOR = "jsonb_to_tsvector('simple'::regconfig, answers, '[\"string\"]'::jsonb)"
POSTGRESQL_DDL = (
    f"ALTER TABLE submissions ADD COLUMN {SEARCH_VECTOR} tsvector "
    f"GENERATED ALWAYS AS ({POSTGRESQL_VECTOR}) STORED",
    f"CREATE INDEX {SEARCH_INDEX} ON submissions USING gin ({SEARCH_VECTOR})",
)


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's filter: leave the search objects out of autogenerate and the migration test."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    if type_ == "column" and name == SEARCH_VECTOR:
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)


def _listen(when: str, statements: tuple[str, ...], dialect: str) -> None:
    for statement in statements:
        event.listen(Submission.__table__, when, DDL(statement).execute_if(dialect=dialect))


_listen("after_create", SQLITE_DDL, "sqlite")
_listen("before_drop", SQLITE_DROP, "sqlite")
_listen("after_create", POSTGRESQL_DDL, "postgresql")
