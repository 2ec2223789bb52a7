"""Full-text search over submissions' answers: one function, the right index per database.

Each word typed matches as a prefix ("lis" finds "Lisbon"); every word must match. SQLite
answers from its FTS5 table, PostgreSQL from its stored ``tsvector`` column and the GIN index
over it (both built in app/models/search_index.py). SQLite's table is filled in batches: a
search first indexes the submissions stored since the previous one.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import table
from sqlalchemy import text

from app.database import is_postgresql
from app.extensions import db
from app.models import Submission
from app.models.search_index import FTS_TABLE
from app.models.search_index import SEARCH_VECTOR
from app.models.search_index import SQLITE_BATCH_END
from app.models.search_index import SQLITE_NEEDS_CATCH_UP
from app.models.search_index import index_through

MAX_TERMS = 8
MAX_TERM_CHARS = 100
_fts = table(FTS_TABLE, literal_column("rowid"))
_POSTGRESQL_VECTOR = literal_column(f"submissions.{SEARCH_VECTOR}")


def search_terms(query: str) -> list[str]:
    """The words of what was typed, as they will be matched."""
    terms = [term[:MAX_TERM_CHARS] for term in query.split() if any(c.isalnum() for c in term)]
    return terms[:MAX_TERMS]


def matches_search(query: str) -> ColumnElement[bool] | None:
    """A condition on submissions that holds when their answers match ``query``; None when
    ``query`` has no word to look for."""
    terms = search_terms(query)
    if not terms:
        return None
    if is_postgresql():
        return _POSTGRESQL_VECTOR.op("@@")(
            text("to_tsquery('simple'::regconfig, :search_query)").bindparams(
                search_query=postgresql_query(terms)
            )
        )
    index_new_submissions()
    matching = select(_fts.c.rowid).where(
        text(f"{FTS_TABLE} MATCH :search_query").bindparams(search_query=sqlite_query(terms))
    )
    return Submission.id.in_(matching.scalar_subquery())


def sqlite_query(terms: list[str]) -> str:
    """FTS5 syntax: each term a quoted phrase (its words in order) whose last word is a prefix."""
    return " ".join('"' + term.replace('"', '""') + '"*' for term in terms)


def postgresql_query(terms: list[str]) -> str:
    """tsquery syntax: each term quoted (so the parser reads it as it read the answers), a
    prefix, all of them required."""
    quoted = ("'" + term.replace("\\", "\\\\").replace("'", "''") + "':*" for term in terms)
    return " & ".join(quoted)


# Rows indexed per write transaction: about a second's work, so a search that finds many
# waiting (a busy week without a worker) keeps what it did even if it is cut off.
INDEX_BATCH = 20_000


def index_new_submissions() -> None:
    """SQLite: add the submissions stored since the last search to the FTS5 table, in write
    transactions of their own. Nothing to do on PostgreSQL, whose index is a column."""
    if is_postgresql():
        return
    connection = db.session.connection()
    if connection.connection.driver_connection.in_transaction:
        # This session already holds SQLite's write lock: a second connection would wait for
        # it, so index within this transaction; it commits or rolls back with the rest.
        while _index_next_batch(connection):
            pass
        return
    if not connection.exec_driver_sql(SQLITE_NEEDS_CATCH_UP).scalar():
        return
    indexed = True
    while indexed:
        with db.engine.begin() as own:
            indexed = _index_next_batch(own)


def _index_next_batch(connection) -> bool:
    """Index up to INDEX_BATCH new rows; False when there was none."""
    end = connection.exec_driver_sql(SQLITE_BATCH_END, (INDEX_BATCH,)).scalar()
    if end is None:
        return False
    index_through(connection.exec_driver_sql, end)
    return True
