"""The latest answers to a form's text questions, for the summary: words are read, not counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import not_
from sqlalchemy import select

from app.extensions import db
from app.models import Form
from app.models import Submission
from app.services.inbox.columns import Column
from app.services.inbox.columns import cell_text
from app.services.inbox.columns import versions_of

LATEST_ANSWERS = 5
# One query reads this many of the newest submissions for every text question at once; a
# question answered by fewer of them shows fewer answers.
ROWS_READ = 200


def latest_answers(
    form: Form, columns: list[Column], start: datetime, versions: dict | None = None
) -> dict[str, list[str]]:
    """Up to ``LATEST_ANSWERS`` non-empty answers per column, newest first, as the inbox shows
    them, from the counted submissions since ``start``."""
    if not columns:
        return {}
    versions = versions if versions is not None else versions_of(form)
    rows = db.session.scalars(
        select(Submission)
        .where(
            Submission.form_id == form.id,
            not_(Submission.is_spam),
            Submission.deleted_at.is_(None),
            Submission.created_at >= start,
        )
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(ROWS_READ)
    )
    found: dict[str, list[str]] = {column.key: [] for column in columns}
    for row in rows:
        for column in columns:
            answers = found[column.key]
            if len(answers) < LATEST_ANSWERS and row.answers.get(column.key) not in (None, ""):
                text = cell_text(versions, row, column).strip()
                if text:
                    answers.append(text)
    return found
