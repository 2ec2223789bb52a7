"""Tags and a private note on a submission, as triage tools have them.

A tag is a short label, normalised (trimmed, spaces collapsed, lower case) so that "Follow up"
and "follow  up" are one tag. Tags belong to a form; a submission carries at most
MAX_TAGS_PER_SUBMISSION. The note is plain text for the team, never shown to the respondent.
Editors and owners change them; viewers read them (the callers load the form for "edit").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.database import is_postgresql
from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import Form
from app.models import Submission
from app.models import SubmissionNote
from app.models import SubmissionTag
from app.models import Tag
from app.models import User
from app.models.types import utcnow

MAX_TAG_CHARS = 30
MAX_TAGS_PER_SUBMISSION = 10
MAX_NOTE_CHARS = 5000
# Letters (any script), digits, and a few joiners; a letter or digit first, so no tag reads as
# a spreadsheet formula or an option.
TAG_PATTERN = re.compile(r"[^\W_][\w .:/&+#-]*")


def normalise_tag(name: str) -> str:
    """The tag as stored, or ValidationFailed (field "tag") saying what is wrong."""
    tag = " ".join(str(name).split()).lower()
    if not tag:
        raise ValidationFailed("Enter a tag.", field="tag")
    if len(tag) > MAX_TAG_CHARS:
        raise ValidationFailed(f"A tag has at most {MAX_TAG_CHARS} characters.", field="tag")
    if not TAG_PATTERN.fullmatch(tag):
        raise ValidationFailed(
            "A tag starts with a letter or digit and holds letters, digits, spaces and . : / & "
            "+ # - _ only.",
            field="tag",
        )
    return tag


def normalise_tags(names: Iterable[str]) -> list[str]:
    tags = list(dict.fromkeys(normalise_tag(name) for name in names))
    if len(tags) > MAX_TAGS_PER_SUBMISSION:
        raise ValidationFailed(
            f"A submission has at most {MAX_TAGS_PER_SUBMISSION} tags.", field="tag"
        )
    return tags


def normalise_note(text: str) -> str:
    """The note as stored: line ends made \\n, trimmed; empty means no note."""
    note = str(text).replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationFailed(f"A note has at most {MAX_NOTE_CHARS} characters.", field="note")
    return note


def tag_names(submission: Submission) -> list[str]:
    return [tag.name for tag in submission.tags]


def form_tags(form: Form) -> list[str]:
    """The tags some submission of the form carries: the suggestions and the filter's list."""
    used = select(SubmissionTag.tag_id).where(SubmissionTag.tag_id == Tag.id).exists()
    return list(
        db.session.scalars(select(Tag.name).where(Tag.form_id == form.id, used).order_by(Tag.name))
    )


def add_tag(form: Form, submission: Submission, name: str) -> str:
    """Tag the submission (a tag it has already is left as it is); the tag as stored."""
    tag = normalise_tag(name)
    current = tag_names(submission)
    if tag not in current:
        if len(current) >= MAX_TAGS_PER_SUBMISSION:
            raise ValidationFailed(
                f"A submission has at most {MAX_TAGS_PER_SUBMISSION} tags; remove one first.",
                field="tag",
            )
        _link(_tag_ids(form, [tag])[tag], [submission.id])
    _done(submission)
    return tag


def remove_tag(submission: Submission, name: str) -> None:
    tag = " ".join(str(name).split()).lower()
    ids = select(Tag.id).where(Tag.form_id == submission.form_id, Tag.name == tag)
    db.session.execute(
        delete(SubmissionTag).where(
            SubmissionTag.submission_id == submission.id, SubmissionTag.tag_id.in_(ids)
        )
    )
    _done(submission)


def set_tags(form: Form, submission: Submission, names: Iterable[str]) -> None:
    """Give the submission exactly these tags."""
    tags = normalise_tags(names)
    _replace_tags(form, submission, tags)
    _done(submission)


def _replace_tags(form: Form, submission: Submission, tags: list[str]) -> None:
    db.session.execute(delete(SubmissionTag).where(SubmissionTag.submission_id == submission.id))
    for tag_id in _tag_ids(form, tags).values():
        _link(tag_id, [submission.id])


def tag_many(form: Form, name: str, batches: Iterable[list[int]]) -> int:
    """Add a tag to the form's submissions with the given ids, but to none that already has
    the most tags it may; how many gained it."""
    tag = normalise_tag(name)
    tag_id = _tag_ids(form, [tag])[tag]
    tagged = 0
    for ids in batches:
        counts = (
            select(SubmissionTag.submission_id)
            .where(SubmissionTag.submission_id.in_(ids))
            .group_by(SubmissionTag.submission_id)
            .having(func.count() >= MAX_TAGS_PER_SUBMISSION)
        )
        has_it = select(SubmissionTag.submission_id).where(SubmissionTag.tag_id == tag_id)
        chosen = db.session.scalars(
            select(Submission.id).where(
                Submission.form_id == form.id,
                Submission.id.in_(ids),
                Submission.id.not_in(counts),
                Submission.id.not_in(has_it),
            )
        ).all()
        _link(tag_id, list(chosen))
        tagged += len(chosen)
    db.session.commit()
    db.session.expire_all()
    return tagged


def set_note(submission: Submission, text: str, user: User) -> None:
    """Write the note (an empty text removes it), signed with ``user`` and the time."""
    note = normalise_note(text)
    _replace_note(submission, note, user)
    _done(submission)


def _replace_note(submission: Submission, note: str, user: User) -> None:
    current = submission.note
    if not note:
        submission.note = None
    elif current is None:
        submission.note = SubmissionNote(text=note, changed_at=utcnow(), changed_by_id=user.id)
    elif current.text != note:
        current.text, current.changed_at, current.changed_by_id = note, utcnow(), user.id


def change_triage(
    form: Form,
    submission: Submission,
    user: User,
    *,
    tags: Iterable[str] | None = None,
    note: str | None = None,
) -> None:
    """Tags and note at once, as the API's PATCH asks; both checked before either changes."""
    new_tags = None if tags is None else normalise_tags(tags)
    new_note = None if note is None else normalise_note(note)
    if new_tags is not None:
        _replace_tags(form, submission, new_tags)
    if new_note is not None:
        _replace_note(submission, new_note, user)
    _done(submission)


def _tag_ids(form: Form, tags: list[str]) -> dict[str, int]:
    """The ids of the form's tags of these names, made where missing."""
    if tags:
        insert = postgresql_insert if is_postgresql() else sqlite_insert
        rows = [{"form_id": form.id, "name": tag} for tag in tags]
        db.session.execute(insert(Tag).values(rows).on_conflict_do_nothing())
    found = db.session.execute(
        select(Tag.name, Tag.id).where(Tag.form_id == form.id, Tag.name.in_(tags))
    )
    return {name: tag_id for name, tag_id in found}


def _link(tag_id: int, submission_ids: list[int]) -> None:
    if not submission_ids:
        return
    insert = postgresql_insert if is_postgresql() else sqlite_insert
    rows = [{"submission_id": sid, "tag_id": tag_id} for sid in submission_ids]
    db.session.execute(insert(SubmissionTag).values(rows).on_conflict_do_nothing())


def _done(submission: Submission) -> None:
    db.session.commit()
    db.session.expire(submission, ["tags"])
