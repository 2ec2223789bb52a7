"""What the API reads and writes, as marshmallow schemas: they parse requests and describe every
body in the OpenAPI document. They check shapes and types only; the rules (lengths, slugs, field
definitions, URLs) stay in the services, which answer 422 with the field at fault."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from marshmallow import Schema
from marshmallow import fields
from marshmallow import pre_load
from marshmallow import validate

from app.fields.filekinds import ENDPOINT_DEFAULT_KINDS
from app.fields.filekinds import FILE_KINDS
from app.models import Availability
from app.models import DeliveryKind
from app.models import DeliveryStatus
from app.models import DeliveryTrigger
from app.models import FormKind
from app.models import FormStatus
from app.models import WebhookPreset
from app.services.forms.templates import TEMPLATES
from app.services.inbox import CHOICE_PREFIX
from app.services.inbox import FIRST_DAY
from app.services.inbox import FOLDERS
from app.services.inbox import LAST_DAY
from app.services.inbox.tagging import MAX_NOTE_CHARS
from app.services.inbox.tagging import MAX_TAG_CHARS
from app.services.inbox.tagging import MAX_TAGS_PER_SUBMISSION

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


def _values(enum_class: Any) -> list[str]:
    return [member.value for member in enum_class]


class UTCDateTime(fields.DateTime):
    """A time in ISO 8601, always in UTC with a ``Z``."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --- errors ----------------------------------------------------------------------------------


class ErrorBodySchema(Schema):
    code = fields.String(
        required=True,
        metadata={"description": "Stable, for programs: not_found, invalid, rate_limited, ..."},
    )
    message = fields.String(required=True, metadata={"description": "For people."})
    details = fields.Raw(
        allow_none=True,
        metadata={
            "description": "What was wrong, by field: an object of lists of messages, its keys "
            "paths in the request such as `title`, `fields[2].label` or `answers.email`."
        },
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# --- forms -----------------------------------------------------------------------------------


class FieldSchema(Schema):
    key = fields.String(required=True, metadata={"description": "Answers are stored under it."})
    type = fields.String(required=True)
    label = fields.String(required=True)
    help = fields.String()
    placeholder = fields.String()
    required = fields.Boolean()
    default = fields.Raw(allow_none=True)
    rules = fields.Dict(metadata={"description": "The type's own settings."})
    show_if = fields.Raw(allow_none=True)
    page = fields.Integer()


CONDITIONS_DESCRIPTION = (
    'Named conditions, each usable as {"condition": name} in a show_if or a route; '
    "null when there are none."
)


class PageSchema(Schema):
    id = fields.String(required=True, metadata={"description": "The page break's key."})
    title = fields.String(required=True)
    description = fields.String(required=True)
    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        attribute="fields",
        required=True,
        metadata={"description": "The keys of the page's questions, in order."},
    )
    show_if = fields.Raw(allow_none=True)
    routes = fields.List(fields.Dict(), required=True)
    default = fields.String(allow_none=True)


class VersionSchema(Schema):
    number = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    published_at = UTCDateTime(required=True)
    fields_ = fields.List(
        fields.Nested(FieldSchema),
        data_key="fields",
        attribute="fields",
        required=True,
        metadata={"description": "The questions, without page breaks."},
    )
    pages = fields.List(
        fields.Nested(PageSchema),
        required=True,
        allow_none=True,
        metadata={"description": "null for a form of one page."},
    )
    conditions = fields.Dict(
        required=True, allow_none=True, metadata={"description": CONDITIONS_DESCRIPTION}
    )


class DraftSchema(Schema):
    fields_ = fields.List(
        fields.Nested(FieldSchema),
        data_key="fields",
        attribute="fields",
        required=True,
        metadata={"description": "Questions and page breaks (type `page`), in order."},
    )
    conditions = fields.Dict(
        required=True, allow_none=True, metadata={"description": CONDITIONS_DESCRIPTION}
    )


class SettingsSchema(Schema):
    # One field per setting of app.services.forms.settings.SETTINGS, in its order (a test holds
    # them equal); each is described here, as the API documents it.
    status = fields.String(validate=validate.OneOf(_values(FormStatus)))
    closes_at = UTCDateTime(allow_none=True, metadata={"description": "With its time zone."})
    max_responses = fields.Integer(allow_none=True, strict=True)
    confirmation_message = fields.String(metadata={"description": "Markdown."})
    redirect_url = fields.String(allow_none=True)
    submit_label = fields.String()
    one_response_per_browser = fields.Boolean()
    allowed_origins = fields.List(
        fields.String(), metadata={"description": "Websites that may post and embed."}
    )
    allow_saving = fields.Boolean(
        metadata={"description": "Respondents may save and finish later from a link."}
    )
    resume_days = fields.Integer(
        strict=True, metadata={"description": "Days a saved answer waits: 1 to 365."}
    )
    one_question_per_page = fields.Boolean(
        metadata={"description": "Show every question on a page of its own."}
    )
    check_answers = fields.Boolean(
        metadata={"description": "Show a 'Check your answers' page before the final submit."}
    )
    spam_threshold = fields.Integer(
        strict=True,
        metadata={
            "description": "A public post whose spam score reaches this (1 to 1000, default "
            "50) is stored in Spam."
        },
    )
    require_proof_of_work = fields.Boolean(
        metadata={"description": "Refuse public posts without a solved ALTCHA challenge."}
    )
    endpoint_file_kinds = fields.List(
        fields.String(validate=validate.OneOf(FILE_KINDS)),
        metadata={
            "description": "The kinds of file a static-site form keeps, each checked by its "
            "content; empty: no files. Web pages, SVG, scripts and programs are never kept. "
            f"Default: {', '.join(ENDPOINT_DEFAULT_KINDS)}."
        },
    )
    retention_days = fields.Integer(
        strict=True,
        allow_none=True,
        metadata={
            "description": "Days a submission is kept before it is deleted, with its files; "
            "null: the site's default (RETENTION_DAYS), or kept."
        },
    )
    forward_only = fields.Boolean(
        metadata={
            "description": "Delete each submission once every email and webhook call for it "
            "has been delivered."
        }
    )


class SettingsInputSchema(SettingsSchema):
    closes_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "ISO 8601 with its time zone, or null."}
    )


class FormSummarySchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(_values(FormKind)))
    status = fields.String(required=True, validate=validate.OneOf(_values(FormStatus)))
    availability = fields.String(
        required=True,
        validate=validate.OneOf(_values(Availability)),
        metadata={"description": "Whether the public page takes submissions now, or why not."},
    )
    url = fields.String(required=True, metadata={"description": "The public page."})
    published_version = fields.Integer(required=True, allow_none=True)
    has_unpublished_changes = fields.Boolean(required=True)
    submission_count = fields.Integer(required=True)
    last_submission_at = UTCDateTime(required=True, allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class FormSchema(FormSummarySchema):
    description = fields.String(required=True, metadata={"description": "Markdown."})
    settings = fields.Nested(SettingsSchema, required=True)
    draft = fields.Nested(
        DraftSchema, required=True, metadata={"description": "The fields being edited."}
    )
    published = fields.Nested(
        VersionSchema,
        required=True,
        allow_none=True,
        metadata={"description": "What the public page serves; null until published."},
    )


class FormListSchema(Schema):
    data = fields.List(fields.Nested(FormSummarySchema), required=True)


class FormCreateSchema(Schema):
    title = fields.String(metadata={"description": "Defaults to the template's title."})
    template = fields.String(load_default="blank", validate=validate.OneOf(list(TEMPLATES)))
    slug = fields.String(
        metadata={"description": "The public address /f/SLUG; made up if left out."}
    )
    kind = fields.String(
        load_default=FormKind.BUILT.value, validate=validate.OneOf(_values(FormKind))
    )


class FormUpdateSchema(Schema):
    title = fields.String()
    description = fields.String()
    slug = fields.String()
    fields_ = fields.List(
        fields.Dict(),
        data_key="fields",
        attribute="fields",
        metadata={
            "description": "Replaces the draft's fields; each as in `draft.fields`. Publish to "
            "make them live. A published key keeps its type."
        },
    )
    conditions = fields.Dict(
        allow_none=True,
        metadata={"description": "Replaces the draft's named conditions; null removes them."},
    )
    settings = fields.Nested(
        SettingsInputSchema, metadata={"description": "Only the settings given change."}
    )


# --- submissions -----------------------------------------------------------------------------


class NoteAuthorSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class NoteSchema(Schema):
    text = fields.String(required=True)
    changed_at = UTCDateTime(required=True)
    changed_by = fields.Nested(
        NoteAuthorSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Who last changed it; null once that user is deleted."},
    )


class SubmissionSchema(Schema):
    id = fields.Integer(required=True)
    form_id = fields.Integer(required=True)
    version = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The form version answered."}
    )
    created_at = UTCDateTime(required=True)
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "By field key; files as {name, size, content_type, url}."},
    )
    read = fields.Boolean(required=True)
    starred = fields.Boolean(required=True)
    spam = fields.Boolean(required=True)
    spam_reason = fields.String(required=True, allow_none=True)
    trashed_at = UTCDateTime(required=True, allow_none=True)
    meta = fields.Dict(
        required=True,
        metadata={"description": "subject, reply_to, cc, next, referrer, user_agent when sent."},
    )
    tags = fields.List(
        fields.String(), required=True, metadata={"description": "The team's tags, A to Z."}
    )
    note = fields.Nested(
        NoteSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The team's private note; null when there is none."},
    )


class SubmissionPageSchema(Schema):
    data = fields.List(fields.Nested(SubmissionSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next (older) page; null at the end."},
    )


class SubmissionListArgsSchema(Schema):
    folder = fields.String(load_default="inbox", validate=validate.OneOf(FOLDERS))
    q = fields.String(metadata={"description": "Words to find in the answers (prefixes match)."})
    since = fields.Date(
        data_key="from",
        validate=validate.Range(min=FIRST_DAY, max=LAST_DAY),
        metadata={"description": "Received on or after this day, in your account's time zone."},
    )
    until = fields.Date(
        data_key="to",
        validate=validate.Range(min=FIRST_DAY, max=LAST_DAY),
        metadata={"description": "Received on or before this day."},
    )
    read = fields.String(validate=validate.OneOf(["read", "unread"]))
    starred = fields.Boolean(metadata={"description": "Only starred ones."})
    tag = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        metadata={"description": "Only those with this tag; repeat it for any of several."},
    )
    cursor = fields.String(metadata={"description": "`next_cursor` of the page before."})
    limit = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )

    @pre_load
    def leave_out_choice_filters(self, data: Any, **kwargs: Any) -> dict[str, Any]:
        """``f.<key>`` filters are named after the form's own questions, so the document
        describes them in words; the view reads them."""
        return {key: data[key] for key in data if not key.startswith(CHOICE_PREFIX)}


# What one answer may be: what a page can send (services.submissions.posted.fields_from_json).
ANSWER_VALUE = [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]


class SubmissionCreateSchema(Schema):
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(
            allow_none=True,
            metadata={
                "anyOf": [*ANSWER_VALUE, {"type": "array", "items": {"anyOf": ANSWER_VALUE}}]
            },
        ),
        required=True,
        metadata={
            "description": "Answers by field key, checked as the public page checks them. "
            "A list answers a checkbox question; `_subject`, `_replyto` and the `_gotcha` "
            "honeypot work as on the page."
        },
    )


class SubmissionUpdateSchema(Schema):
    read = fields.Boolean()
    starred = fields.Boolean()
    spam = fields.Boolean(
        metadata={"description": "false counts it and sends what a new one sends."}
    )
    trashed = fields.Boolean(metadata={"description": "false restores it from the trash."})
    tags = fields.List(
        fields.String(),
        metadata={
            "description": f"Replaces its tags: at most {MAX_TAGS_PER_SUBMISSION}, each of at "
            f"most {MAX_TAG_CHARS} characters, stored trimmed and in lower case."
        },
    )
    note = fields.String(
        metadata={
            "description": f"Replaces its note (at most {MAX_NOTE_CHARS} characters); "
            "an empty text removes it."
        }
    )


# --- webhooks --------------------------------------------------------------------------------


class WebhookSchema(Schema):
    id = fields.Integer(required=True)
    form_id = fields.Integer(required=True)
    url = fields.String(
        required=True, metadata={"description": "Without its query string, which may hold a key."}
    )
    preset = fields.String(required=True, validate=validate.OneOf(_values(WebhookPreset)))
    enabled = fields.Boolean(required=True)
    consecutive_failures = fields.Integer(required=True)
    disabled_reason = fields.String(required=True, allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        required=True,
        metadata={
            "description": "Signs every request as Standard Webhooks do (whsec_ and base64); "
            "shown in this answer only."
        },
    )


class WebhookListSchema(Schema):
    data = fields.List(fields.Nested(WebhookSchema), required=True)


class WebhookCreateSchema(Schema):
    url = fields.String(required=True)
    preset = fields.String(
        load_default=WebhookPreset.GENERIC.value, validate=validate.OneOf(_values(WebhookPreset))
    )


class AttemptSchema(Schema):
    number = fields.Integer(required=True)
    started_at = UTCDateTime(required=True)
    duration_ms = fields.Integer(required=True)
    succeeded = fields.Boolean(required=True)
    status_code = fields.Integer(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    response_excerpt = fields.String(required=True, allow_none=True)


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    delivery_id = fields.String(
        required=True, metadata={"description": "The webhook-id header's value."}
    )
    kind = fields.String(required=True, validate=validate.OneOf(_values(DeliveryKind)))
    event = fields.String(required=True)
    trigger = fields.String(required=True, validate=validate.OneOf(_values(DeliveryTrigger)))
    status = fields.String(required=True, validate=validate.OneOf(_values(DeliveryStatus)))
    submission_id = fields.Integer(required=True, allow_none=True)
    attempt_count = fields.Integer(required=True)
    max_attempts = fields.Integer(required=True)
    created_at = UTCDateTime(required=True)
    next_attempt_at = UTCDateTime(required=True)
    completed_at = UTCDateTime(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)
    attempts = fields.List(fields.Nested(AttemptSchema), required=True)


class DeliveryPageSchema(Schema):
    data = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class DeliveryListArgsSchema(Schema):
    cursor = fields.String(metadata={"description": "`next_cursor` of the page before."})
