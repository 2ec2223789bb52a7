"""SQLite's search index is filled in batches before each search; what it holds stays exact."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade
from flask_migrate import upgrade
from sqlalchemy import delete
from sqlalchemy import text

from app import MIGRATIONS_DIR
from app import create_app
from app.extensions import db
from app.models import Role
from app.models import Submission
from app.models.search_index import FTS_STATE
from app.models.search_index import FTS_TABLE
from tests.auth_helpers import make_user
from tests.auth_helpers import sign_in
from tests.test_inbox import add_submission
from tests.test_inbox import listed_ids
from tests.test_inbox import make_survey


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'search.sqlite3'}"


def indexed_ids(app) -> list[int]:
    with app.app_context():
        rows = db.session.execute(text(f"SELECT rowid FROM {FTS_TABLE} ORDER BY rowid"))
        return [row[0] for row in rows]


def matching_ids(app, word: str) -> list[int]:
    """What the index itself answers for ``word``: proof it holds a row's words, not only id."""
    with app.app_context():
        query = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :word ORDER BY rowid")
        return [row[0] for row in db.session.execute(query, {"word": word})]


def check_integrity(app) -> None:
    """FTS5's own check of its index structures."""
    with app.app_context():
        db.session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')"))
        db.session.rollback()


def test_a_search_indexes_new_submissions_first(app, owner, signed_in):
    survey = make_survey(app)
    editor = signed_in(Role.EDITOR)
    lisbon = add_submission(app, survey, {"name": "Ann", "message": "Lisbon"})
    assert indexed_ids(app) == []  # storing one writes nothing to the index

    response = editor.get(f"/forms/{survey}/submissions?q=lisbon")
    assert listed_ids(response, survey) == [lisbon]
    assert indexed_ids(app) == [lisbon]

    porto = add_submission(app, survey, {"name": "Bob", "message": "Porto"})
    response = editor.get(f"/forms/{survey}/submissions?q=porto")
    assert listed_ids(response, survey) == [porto]
    assert matching_ids(app, "porto") == [porto]
    check_integrity(app)


def test_many_waiting_rows_are_indexed_in_batches_that_each_commit(app, owner, monkeypatch):
    from app.services.submissions import search

    survey = make_survey(app)
    stored = [
        add_submission(app, survey, {"name": f"Ann {n}", "message": "Lisbon"}) for n in range(7)
    ]
    monkeypatch.setattr(search, "INDEX_BATCH", 3)
    statements: list[str] = []
    with app.app_context():
        from sqlalchemy import event

        def remember(_conn, _cursor, statement, *_rest) -> None:
            statements.append(statement)

        def remember_commit(_conn) -> None:
            statements.append("COMMIT")

        event.listen(db.engine, "before_cursor_execute", remember)
        event.listen(db.engine, "commit", remember_commit)
        try:
            search.index_new_submissions()
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
            event.remove(db.engine, "commit", remember_commit)
    assert indexed_ids(app) == stored
    assert matching_ids(app, "lisbon") == stored
    batches = [
        s.split()[0] for s in statements if s.startswith((f"INSERT INTO {FTS_TABLE}", "COMMIT"))
    ]
    assert batches == ["INSERT", "COMMIT"] * 3 + ["COMMIT"]  # the last finds nothing left
    with app.app_context():
        mark = db.session.execute(text(f"SELECT indexed_through FROM {FTS_STATE}")).scalar()
    assert mark == stored[-1]


def test_deleting_rows_keeps_the_index_exact_whether_indexed_or_not(app, owner, signed_in):
    survey = make_survey(app)
    editor = signed_in(Role.EDITOR)
    indexed = add_submission(app, survey, {"name": "Ann", "message": "Lisbon"})
    editor.get(f"/forms/{survey}/submissions?q=lisbon")
    not_yet = add_submission(app, survey, {"name": "Cy", "message": "Lisbon too"})
    with app.app_context():
        db.session.execute(delete(Submission).where(Submission.id.in_([indexed, not_yet])))
        db.session.commit()
    check_integrity(app)
    assert matching_ids(app, "lisbon") == []
    kept = add_submission(app, survey, {"name": "Dee", "message": "Lisbon again"})
    response = editor.get(f"/forms/{survey}/submissions?q=lisbon")
    assert listed_ids(response, survey) == [kept]
    check_integrity(app)


def test_a_search_inside_a_write_indexes_within_that_transaction(app, owner):
    survey = make_survey(app)
    stored = add_submission(app, survey, {"name": "Ann", "message": "Lisbon"})
    with app.app_context():
        from app.services.submissions.search import matches_search

        db.session.execute(text("UPDATE forms SET title = 'Renamed'"))  # holds the write lock
        found = db.session.scalars(db.select(Submission.id).where(matches_search("lisbon"))).all()
        db.session.commit()
    assert found == [stored]
    assert indexed_ids(app) == [stored]


def test_the_worker_indexes_new_submissions_now_and_then(app, owner):
    from app.services.delivery.worker import Worker

    survey = make_survey(app)
    first = add_submission(app, survey, {"name": "Ann", "message": "Lisbon"})
    worker = Worker(app, poll_seconds=0)
    worker.run_once()
    assert indexed_ids(app) == [first]
    second = add_submission(app, survey, {"name": "Bob", "message": "Porto"})
    worker.run_once()
    assert indexed_ids(app) == [first]  # not again within the minute
    worker.next_catch_up_at = None
    worker.run_once()
    assert indexed_ids(app) == [first, second]


def test_migration_0008_keeps_every_row_findable_both_ways(tmp_path):
    app = create_app(
        {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"}
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
    make_user(app, "owner@example.com", Role.OWNER)
    survey = make_survey(app)
    unindexed = add_submission(app, survey, {"name": "Ann", "message": "Lisbon"})
    with app.app_context():
        downgrade(directory=str(MIGRATIONS_DIR), revision="0007")
    # Back on a trigger per row: the row stored before is indexed by the downgrade.
    assert matching_ids(app, "lisbon") == [unindexed]
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO submissions (form_id, version_id, answers, meta, created_at, "
                "is_spam, is_read, is_starred) SELECT form_id, version_id, "
                """'{"name": "Bob", "message": "Porto"}', '{}', created_at, 0, 0, 0 """
                "FROM submissions LIMIT 1"
            )
        )
        db.session.commit()
    porto = matching_ids(app, "porto")
    assert len(porto) == 1
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        mark = db.session.execute(text(f"SELECT indexed_through FROM {FTS_STATE}")).scalar()
    assert mark == porto[0]  # everything was indexed already
    with app.app_context():  # and counted in the summary (migration 0009)
        assert db.session.execute(text("SELECT min(summarized) FROM submissions")).scalar() == 1
    later = add_submission(app, survey, {"name": "Cy", "message": "Lisbon"})
    editor = sign_in(app, Role.EDITOR)  # this test's own app, not the fixture's
    response = editor.get(f"/forms/{survey}/submissions?q=lisbon")
    assert listed_ids(response, survey) == [later, unindexed]
    with app.app_context():
        db.session.execute(delete(Submission).where(Submission.id == porto[0]))
        db.session.commit()
    assert matching_ids(app, "porto") == []
    check_integrity(app)
    with app.app_context():
        db.engine.dispose()
