"""The setup code that guards /setup in production, so the first visitor of a fresh install
cannot claim it: whoever reads the server's log can.

The code is derived from SECRET_KEY, not drawn at random, so every worker process and every
restart print and accept the same one without storing it anywhere. It opens /setup only until
the owner exists (then /setup is gone for good), which is what makes it one-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from app.exceptions import ValidationFailed

PURPOSE = b"formyard setup code"
GROUPS = 3
GROUP_LENGTH = 4


def setup_code(secret_key: str) -> str:
    """Twelve letters and digits (60 bits) in groups of four, as ``ABCD-EFGH-JKLM``."""
    digest = hmac.new(secret_key.encode(), PURPOSE, hashlib.sha256).digest()
    letters = base64.b32encode(digest).decode()[: GROUPS * GROUP_LENGTH]
    return "-".join(
        letters[start : start + GROUP_LENGTH] for start in range(0, len(letters), GROUP_LENGTH)
    )


def check_setup_code(secret_key: str, given: str) -> None:
    """Refuse a code that is not this install's; spaces, dashes and case do not matter."""
    typed = "".join(given.split()).replace("-", "").upper()
    expected = setup_code(secret_key).replace("-", "")
    if not hmac.compare_digest(typed.encode(), expected.encode()):
        raise ValidationFailed(
            "That is not the setup code. Formyard prints it in the server's log when it starts.",
            field="setup_code",
        )


def setup_code_message(secret_key: str, base_url: str) -> str:
    """The log line that hands the code to the operator."""
    return (
        f"No owner yet: open {base_url}/setup and enter the setup code "
        f"{setup_code(secret_key)} (or make the owner with `flask users create`)"
    )
