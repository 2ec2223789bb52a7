"""What one attempt at sending an email or calling a webhook came to."""

from __future__ import annotations

import ssl
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


def tls_context(ca_file: str) -> ssl.SSLContext:
    """Verifying TLS: against the CAs in ``ca_file`` (a PEM bundle, for a private CA) when set,
    else the system's."""
    return ssl.create_default_context(cafile=ca_file or None)


def certificate_refused(host: str, error: ssl.SSLCertVerificationError) -> str:
    """Why a server's certificate was not accepted, in words a delivery log can show."""
    reason = error.verify_message or str(error)
    return f"TLS certificate of {host} refused: {reason}."
