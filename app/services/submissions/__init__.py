"""Submissions: accepting one (pages, static-site posts, the API), storing its row and files,
the version it answers, the answer sheet and search."""

from app.services.submissions.accepting import MAX_IDEMPOTENCY_KEY_CHARS
from app.services.submissions.accepting import Accepted
from app.services.submissions.accepting import check_can_submit
from app.services.submissions.accepting import resolve_next
from app.services.submissions.accepting import submit
from app.services.submissions.idempotency import request_fingerprint
from app.services.submissions.posted import SubmissionContext
from app.services.submissions.posted import fields_from_json
from app.services.submissions.versions import specs_for
from app.services.submissions.versions import version_form_class
from app.services.submissions.versions import version_specs

__all__ = [
    "MAX_IDEMPOTENCY_KEY_CHARS",
    "Accepted",
    "SubmissionContext",
    "check_can_submit",
    "fields_from_json",
    "request_fingerprint",
    "resolve_next",
    "specs_for",
    "submit",
    "version_form_class",
    "version_specs",
]
