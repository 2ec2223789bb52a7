"""Typed SQLAlchemy models, one module per aggregate. Import them here so Alembic sees them all."""

from app.models.audit import ActorKind
from app.models.audit import AuditEntry
from app.models.audit import Outcome
from app.models.delivery import Delivery
from app.models.delivery import DeliveryAttempt
from app.models.delivery import DeliveryKind
from app.models.delivery import DeliveryStatus
from app.models.delivery import DeliveryTrigger
from app.models.delivery import FormNotification
from app.models.delivery import WebhookEndpoint
from app.models.delivery import WebhookPreset
from app.models.delivery import WorkerHeartbeat
from app.models.form import Availability
from app.models.form import EndpointKey
from app.models.form import Form
from app.models.form import FormKind
from app.models.form import FormStatus
from app.models.form import FormVersion
from app.models.form import FormViewCount
from app.models.partial import PartialResponse
from app.models.rollup import SummaryRollup
from app.models.spam import UsedChallenge
from app.models.submission import IdempotencyClaim
from app.models.submission import SpamReason
from app.models.submission import StoredFile
from app.models.submission import Submission
from app.models.tag import SubmissionNote
from app.models.tag import SubmissionTag
from app.models.tag import Tag
from app.models.token import ApiToken
from app.models.token import TokenScope
from app.models.two_step import RecoveryCode
from app.models.two_step import SiteSetting
from app.models.two_step import TwoStepPolicy
from app.models.user import Role
from app.models.user import User

__all__ = [
    "ActorKind",
    "ApiToken",
    "AuditEntry",
    "Availability",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryKind",
    "DeliveryStatus",
    "DeliveryTrigger",
    "EndpointKey",
    "Form",
    "FormKind",
    "FormNotification",
    "FormStatus",
    "FormVersion",
    "FormViewCount",
    "IdempotencyClaim",
    "Outcome",
    "PartialResponse",
    "RecoveryCode",
    "Role",
    "SiteSetting",
    "SpamReason",
    "StoredFile",
    "Submission",
    "SubmissionNote",
    "SubmissionTag",
    "SummaryRollup",
    "Tag",
    "TokenScope",
    "TwoStepPolicy",
    "UsedChallenge",
    "User",
    "WebhookEndpoint",
    "WebhookPreset",
    "WorkerHeartbeat",
]
