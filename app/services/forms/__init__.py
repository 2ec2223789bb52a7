"""Forms: who may see and change them, drafts and fields, their logic (show-if, page rules) and
flow overview, publishing, settings, definitions (forms as code), templates and view counts."""

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
from app.services.forms.flow_overview import FlowOverview
from app.services.forms.flow_overview import flow_overview
from app.services.forms.logic import ConditionInput
from app.services.forms.logic import LeafInput
from app.services.forms.logic import delete_route
from app.services.forms.logic import editor_input
from app.services.forms.logic import later_pages
from app.services.forms.logic import move_route
from app.services.forms.logic import page_routes
from app.services.forms.logic import questions_before
from app.services.forms.logic import remove_show_if
from app.services.forms.logic import save_route
from app.services.forms.logic import save_show_if
from app.services.forms.logic import set_default_route
from app.services.forms.publishing import create_endpoint
from app.services.forms.publishing import flow_problems_of
from app.services.forms.publishing import list_versions
from app.services.forms.publishing import publish
from app.services.forms.settings import current_settings
from app.services.forms.settings import normalize_origin
from app.services.forms.settings import update_settings

__all__ = [
    "Action",
    "ConditionInput",
    "FlowOverview",
    "LeafInput",
    "add_field",
    "create_endpoint",
    "create_form",
    "current_settings",
    "delete_field",
    "delete_route",
    "duplicate_field",
    "duplicate_form",
    "editor_input",
    "field_index",
    "flow_overview",
    "flow_problems_of",
    "get_form_by_slug",
    "get_form_for",
    "later_pages",
    "list_forms",
    "list_versions",
    "move_field",
    "move_route",
    "normalize_origin",
    "page_routes",
    "publish",
    "published_keys",
    "purge_trashed_forms",
    "questions_before",
    "remove_show_if",
    "reorder_fields",
    "restore_form",
    "save_conditions",
    "save_fields",
    "save_route",
    "save_show_if",
    "set_default_route",
    "starter_rules",
    "trash_form",
    "update_details",
    "update_field",
    "update_form",
    "update_settings",
]
