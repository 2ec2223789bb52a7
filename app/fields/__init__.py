"""The field-type registry: one class per type of question, and the functions around them.

A type checks its builder rules, builds its WTForms field, cleans an answer into its stored
form, shows it, exports it, and says how the inbox summarises it.
"""

from app.fields.base import ExportContext
from app.fields.base import FieldType
from app.fields.base import SummaryKind
from app.fields.exports import answer_csv_cell
from app.fields.exports import answer_json_value
from app.fields.exports import display_answer
from app.fields.filekinds import FILE_KINDS
from app.fields.forms import answers_from
from app.fields.forms import build_form_class
from app.fields.forms import needs_multipart
from app.fields.forms import prefill_data
from app.fields.inputs import RuleInput
from app.fields.parsing import parse_field_specs
from app.fields.parsing import suggest_key
from app.fields.registry import CHOICE_TYPES
from app.fields.registry import FIELD_TYPES
from app.fields.registry import get_field_type
from app.fields.spec import FieldSpec
from app.fields.upload import UploadedFile
from app.fields.validators import ErrorCode
from app.fields.validators import FieldError
from app.fields.validators import InvalidAnswer
from app.fields.validators import collect_errors

__all__ = [
    "CHOICE_TYPES",
    "FIELD_TYPES",
    "FILE_KINDS",
    "ErrorCode",
    "ExportContext",
    "FieldError",
    "FieldSpec",
    "FieldType",
    "InvalidAnswer",
    "RuleInput",
    "SummaryKind",
    "UploadedFile",
    "answer_csv_cell",
    "answer_json_value",
    "answers_from",
    "build_form_class",
    "collect_errors",
    "display_answer",
    "get_field_type",
    "needs_multipart",
    "parse_field_specs",
    "prefill_data",
    "suggest_key",
]
