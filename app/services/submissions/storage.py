"""Where uploaded files live. The database backend works on a PaaS with no disk; an object-store
backend can be added by giving ``StoredFile.backend`` another value and a branch here."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from app.exceptions import NotFound
from app.extensions import db
from app.fields import UploadedFile
from app.models import StoredFile

DATABASE_BACKEND = "database"


def save_upload(form_id: int, field_key: str, upload: UploadedFile) -> dict[str, Any]:
    """Keep the file (in the current transaction) and return the reference stored as the answer."""
    stored = StoredFile(
        id=uuid.uuid4().hex,
        form_id=form_id,
        field_key=field_key,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        backend=DATABASE_BACKEND,
        data=upload.data,
    )
    db.session.add(stored)
    return file_reference(stored)


def file_reference(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.id,
        "name": stored.filename,
        "size": stored.size,
        "content_type": stored.content_type,
    }


def attach_files(file_ids: list[str], submission_id: int) -> None:
    if file_ids:
        db.session.execute(
            update(StoredFile)
            .where(StoredFile.id.in_(file_ids))
            .values(submission_id=submission_id)
        )


def get_file(form_id: int, file_id: str) -> StoredFile:
    """A stored file of ``form_id``; NotFound for another form's file or an unknown id."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.form_id != form_id:
        raise NotFound("No such file.")
    return stored


def read_file(stored: StoredFile) -> bytes:
    if stored.backend == DATABASE_BACKEND:
        return stored.data or b""
    raise NotFound(f"Storage backend {stored.backend!r} is not available.")
