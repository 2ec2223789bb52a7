"""The audit log: recording who did what in the transaction of the change, and reading it."""

from app.services.audit.reading import AuditFilter
from app.services.audit.reading import AuditPage
from app.services.audit.reading import known_actions
from app.services.audit.reading import page_of
from app.services.audit.reading import purge_older_than
from app.services.audit.reading import stream_csv
from app.services.audit.reading import stream_jsonl
from app.services.audit.recording import SYSTEM
from app.services.audit.recording import Actor
from app.services.audit.recording import Target
from app.services.audit.recording import acting_as
from app.services.audit.recording import current_actor
from app.services.audit.recording import record
from app.services.audit.recording import system_actor
from app.services.audit.recording import user_actor

__all__ = [
    "SYSTEM",
    "Actor",
    "AuditFilter",
    "AuditPage",
    "Target",
    "acting_as",
    "current_actor",
    "known_actions",
    "page_of",
    "purge_older_than",
    "record",
    "stream_csv",
    "stream_jsonl",
    "system_actor",
    "user_actor",
]
