"""The inbox: listing and filters, columns, triage (read, star, spam, trash), the summary and its
rollups."""

from app.services.inbox.columns import Column
from app.services.inbox.columns import answers_of
from app.services.inbox.columns import cell_text
from app.services.inbox.columns import columns_for
from app.services.inbox.columns import version_number
from app.services.inbox.columns import versions_of
from app.services.inbox.filters import CHOICE_PREFIX
from app.services.inbox.filters import FIRST_DAY
from app.services.inbox.filters import FOLDERS
from app.services.inbox.filters import LAST_DAY
from app.services.inbox.filters import InboxFilter
from app.services.inbox.filters import filter_conditions
from app.services.inbox.listing import Cursor
from app.services.inbox.listing import count_matching
from app.services.inbox.listing import find_submission_for
from app.services.inbox.listing import get_submission_for
from app.services.inbox.listing import list_page
from app.services.inbox.listing import matching_ids
from app.services.inbox.listing import neighbours
from app.services.inbox.listing import newest_unread
from app.services.inbox.listing import unread_counts
from app.services.inbox.listing import zone_of

__all__ = [
    "CHOICE_PREFIX",
    "FIRST_DAY",
    "FOLDERS",
    "LAST_DAY",
    "Column",
    "Cursor",
    "InboxFilter",
    "answers_of",
    "cell_text",
    "columns_for",
    "count_matching",
    "filter_conditions",
    "find_submission_for",
    "get_submission_for",
    "list_page",
    "matching_ids",
    "neighbours",
    "newest_unread",
    "unread_counts",
    "version_number",
    "versions_of",
    "zone_of",
]
