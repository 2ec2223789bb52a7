"""Forms: who may see and change them, drafts and fields, publishing, settings, definitions
(forms as code), templates and view counts."""

from app.services.forms.access import Action
from app.services.forms.access import get_form_by_slug
from app.services.forms.access import get_form_for
from app.services.forms.access import list_forms
from app.services.forms.editing import add_field
from app.services.forms.editing import create_form
from app.services.forms.editing import delete_field
from app.services.forms.editing import duplicate_field
from app.services.forms.editing import duplicate_form
from app.services.forms.editing import field_index
from app.services.forms.editing import move_field
from app.services.forms.editing import published_keys
from app.services.forms.editing import purge_trashed_forms
from app.services.forms.editing import reorder_fields
from app.services.forms.editing import restore_form
from app.services.forms.editing import save_conditions
from app.services.forms.editing import save_fields
from app.services.forms.editing import starter_rules
from app.services.forms.editing import trash_form
from app.services.forms.editing import update_details
from app.services.forms.editing import update_field
from app.services.forms.editing import update_form
from app.services.forms.publishing import flow_problems_of
from app.services.forms.publishing import list_versions
from app.services.forms.publishing import publish
from app.services.forms.settings import current_settings
from app.services.forms.settings import normalize_origin
from app.services.forms.settings import update_settings

__all__ = [
    "Action",
    "add_field",
    "create_form",
    "current_settings",
    "delete_field",
    "duplicate_field",
    "duplicate_form",
    "field_index",
    "flow_problems_of",
    "get_form_by_slug",
    "get_form_for",
    "list_forms",
    "list_versions",
    "move_field",
    "normalize_origin",
    "publish",
    "published_keys",
    "purge_trashed_forms",
    "reorder_fields",
    "restore_form",
    "save_conditions",
    "save_fields",
    "starter_rules",
    "trash_form",
    "update_details",
    "update_field",
    "update_form",
    "update_settings",
]
