"""Domain errors, the lowest layer: services and the field registry raise them; pages turn
them into form errors, the API into JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wtforms import Form as WTForm

    from app.fields import FieldError
    from app.models.form import Availability


class DomainError(Exception):
    """A rule said no. ``code`` is stable for machines, ``message`` is for people."""

    code = "invalid"
    status = 422

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    @property
    def field_errors(self) -> dict[str, list[str]]:
        return {self.field: [self.message]} if self.field else {}


class ValidationFailed(DomainError):
    code = "invalid"
    status = 422


class InputsInvalid(ValidationFailed):
    """Several inputs of one editor refused at once, each with its messages; the first is
    the error's own message and field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=field or None)
        self.errors = errors

    @property
    def field_errors(self) -> dict[str, list[str]]:
        return self.errors


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class Throttled(DomainError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- submissions ------------------------------------------------------------------------------


class FormUnavailable(DomainError):
    """The form takes no submissions now: draft, closed, expired, full or deleted."""

    def __init__(self, availability: Availability) -> None:
        # Keyed by Availability's values (a StrEnum), so errors need not import the models.
        messages = {
            # The same words for both, so a stranger cannot tell that a draft's address exists.
            "draft": "This form does not exist.",
            "deleted": "This form does not exist.",
            "closed": "This form is closed and no longer accepts responses.",
            "expired": "This form has closed; the deadline has passed.",
            "full": "This form has received all the responses it can take.",
        }
        gone = availability in {"draft", "deleted"}
        super().__init__(messages[availability], code="FORM_NOT_FOUND" if gone else "INACTIVE")
        self.status = 404 if gone else 403
        self.availability = availability


class AlreadyResponded(DomainError):
    """The form takes one response per browser, and this browser has sent one."""

    status = 409
    code = "ALREADY_RESPONDED"


class OriginNotAllowed(DomainError):
    status = 403
    code = "ORIGIN_NOT_ALLOWED"


class SubmissionInvalid(DomainError):
    """Answers failed validation; ``errors`` carry a code per field, ``form`` the bound form."""

    status = 422

    def __init__(self, errors: list[FieldError], form: WTForm | None = None) -> None:
        summary = "; ".join(f"{error.key}: {error.message}" for error in errors[:5])
        super().__init__(summary or "The submission is not valid.", code="INVALID")
        self.errors = errors
        self.form = form


class IdempotencyKeyReused(DomainError):
    """A request repeats an idempotency key with another body (IETF Idempotency-Key draft)."""

    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInFlight(DomainError):
    """Another request with the same idempotency key is still being handled."""

    status = 409
    code = "IDEMPOTENCY_KEY_IN_FLIGHT"


class PageNotReached(DomainError):
    """A page of a multi-page form posted or asked for before the respondent reached it, or
    after their answers were sent or expired."""

    status = 409
    code = "PAGE_NOT_REACHED"


class ProofOfWorkRequired(DomainError):
    """The form requires proof of work and the post carries none (no JavaScript, or a script)."""

    status = 422
    code = "CAPTCHA_REQUIRED"


class ProofOfWorkInvalid(DomainError):
    """A proof of work that is wrong, expired, for another form, or used already."""

    status = 422
    code = "CAPTCHA_INVALID"
