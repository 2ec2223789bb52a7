"""What one attempt at sending an email or calling a webhook came to."""

from __future__ import annotations

from dataclasses import dataclass

EXCERPT_CHARS = 1000
ERROR_CHARS = 500


@dataclass(frozen=True)
class SendResult:
    succeeded: bool
    status_code: int | None = None  # HTTP status, or the SMTP server's reply code
    error: str | None = None
    response_excerpt: str | None = None
    # Retrying cannot help (a mailbox that does not exist, a URL we refuse): give up now.
    permanent: bool = False

    @classmethod
    def failure(
        cls, error: str, *, status_code: int | None = None, permanent: bool = False
    ) -> SendResult:
        return cls(False, status_code, error[:ERROR_CHARS], None, permanent)


def excerpt(data: bytes | str | None) -> str | None:
    """The start of a response, as text, short enough for the delivery log."""
    if not data:
        return None
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text[:EXCERPT_CHARS]
