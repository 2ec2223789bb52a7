"""A submission's spam score: the signals a post carries, each with its weight, summed and
held against the form's threshold. Nothing here refuses a post; above the threshold it is
stored in the Spam folder with its reasons."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

# A page sent back sooner than a person can read and fill it.
TOO_FAST_SECONDS = 3
# A page rendered this long before its post was left open, or its token copied by a script.
TOO_OLD_SECONDS = 24 * 3600
# Posts left in the rate limit's window, at or below which a sender is "near the limit".
NEAR_LIMIT_REMAINING = 2
MANY_LINKS = 3
DEFAULT_THRESHOLD = 50

# Phrases seen in form spam, matched case-insensitively as whole words.
SPAM_PHRASES = (
    "buy now",
    "casino",
    "crypto investment",
    "seo services",
    "backlinks",
    "viagra",
    "cialis",
    "payday loan",
    "work from home",
    "click here",
    "100% free",
    "guest post",
    "rank your website",
    "first page of google",
)
_PHRASE_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(phrase) for phrase in SPAM_PHRASES) + r")\b", re.IGNORECASE
)
_LINK_PATTERN = re.compile(r"https?://|www\.|\[url=", re.IGNORECASE)


class Signal(enum.StrEnum):
    HONEYPOT = "honeypot"
    TOO_FAST = "too_fast"
    TOO_OLD = "too_old"
    NO_TOKEN = "no_token"  # noqa: S105 (a signal); a page of Formyard's posted without the token it carries
    BAD_TOKEN = "bad_token"  # noqa: S105 (a signal); forged, or for another form
    NEAR_RATE_LIMIT = "near_rate_limit"
    MANY_LINKS = "many_links"
    SPAM_PHRASES = "spam_phrases"
    UNEXPECTED_SCRIPT = "unexpected_script"
    NO_PROOF_OF_WORK = "no_proof_of_work"


WEIGHTS: dict[Signal, int] = {
    Signal.HONEYPOT: 100,
    Signal.TOO_FAST: 40,
    Signal.TOO_OLD: 15,
    Signal.NO_TOKEN: 25,
    Signal.BAD_TOKEN: 40,
    Signal.NEAR_RATE_LIMIT: 20,
    Signal.MANY_LINKS: 30,
    Signal.SPAM_PHRASES: 30,
    Signal.UNEXPECTED_SCRIPT: 25,
    # Low: respondents without JavaScript are people too. A person is never too fast as well.
    Signal.NO_PROOF_OF_WORK: 10,
}

DESCRIPTIONS: dict[Signal, str] = {
    Signal.HONEYPOT: "Filled in the hidden field only bots see",
    Signal.TOO_FAST: f"Sent less than {TOO_FAST_SECONDS} seconds after the page was shown",
    Signal.TOO_OLD: "Sent more than a day after the page was shown",
    Signal.NO_TOKEN: "Sent without the token the form's page carries",
    Signal.BAD_TOKEN: "Sent with a token the form's page did not give",
    Signal.NEAR_RATE_LIMIT: "One of many posts from one address in a short time",
    Signal.MANY_LINKS: f"Has {MANY_LINKS} or more links",
    Signal.SPAM_PHRASES: "Uses phrases common in spam",
    Signal.UNEXPECTED_SCRIPT: "Written in a script the form is not written in",
    Signal.NO_PROOF_OF_WORK: "Sent without the browser's proof of work",
}


class TokenState(enum.Enum):
    VALID = enum.auto()
    MISSING = enum.auto()
    INVALID = enum.auto()


@dataclass(frozen=True)
class RequestSignals:
    """What a public post tells about its sender, read by the route. The API's posts (an
    editor's own token) carry none and are not scored."""

    token: TokenState | None = None  # None: a static-site form, whose pages carry no token
    page_age_seconds: float | None = None
    posts_left: int | None = None  # in the rate limit's window; None when unknown
    proof_of_work_missing: bool = False


@dataclass(frozen=True)
class SpamVerdict:
    score: int
    reasons: list[dict[str, Any]] = field(default_factory=list)
    is_spam: bool = False

    @property
    def signals(self) -> set[str]:
        return {reason["code"] for reason in self.reasons}


def request_signals_of(signals: RequestSignals | None) -> list[Signal]:
    if signals is None:
        return []
    found: list[Signal] = []
    if signals.token is TokenState.MISSING:
        found.append(Signal.NO_TOKEN)
    elif signals.token is TokenState.INVALID:
        found.append(Signal.BAD_TOKEN)
    age = signals.page_age_seconds
    if age is not None and age < TOO_FAST_SECONDS:
        found.append(Signal.TOO_FAST)
    elif age is not None and age > TOO_OLD_SECONDS:
        found.append(Signal.TOO_OLD)
    if signals.posts_left is not None and signals.posts_left <= NEAR_LIMIT_REMAINING:
        found.append(Signal.NEAR_RATE_LIMIT)
    if signals.proof_of_work_missing:
        found.append(Signal.NO_PROOF_OF_WORK)
    return found


def content_signals(texts: Iterable[str], expected_text: str) -> list[Signal]:
    """Signals in the answers' text; ``expected_text`` is the form's own wording (its
    title and labels), whose scripts answers are expected in."""
    text = "\n".join(texts)
    found: list[Signal] = []
    if len(_LINK_PATTERN.findall(text)) >= MANY_LINKS:
        found.append(Signal.MANY_LINKS)
    if _PHRASE_PATTERN.search(text):
        found.append(Signal.SPAM_PHRASES)
    # Latin is expected everywhere: addresses, names and links are written in it in any form.
    if expected_text and _scripts(text) - _scripts(expected_text) - {"LATIN"}:
        found.append(Signal.UNEXPECTED_SCRIPT)
    return found


def _scripts(text: str) -> set[str]:
    """The scripts of the letters in ``text``, by the first word of each one's Unicode name:
    LATIN, CYRILLIC, CJK, HANGUL, ARABIC, HIRAGANA, ..."""
    return {_script(character) for character in set(text) if character.isalpha()} - {""}


def _script(character: str) -> str:
    name = unicodedata.name(character, "")
    return name.split(" ", 1)[0] if name else ""


def answer_texts(answers: dict[str, Any]) -> list[str]:
    texts: list[str] = []
    for value in answers.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                texts.append(item)
    return texts


def judge_spam(signals: Iterable[Signal], threshold: int, *, honeypot: bool = False) -> SpamVerdict:
    """Sum the signals' weights; spam above ``threshold``, and always for the honeypot."""
    found = list(dict.fromkeys([Signal.HONEYPOT, *signals] if honeypot else signals))
    reasons = [
        {"code": signal.value, "weight": WEIGHTS[signal], "description": DESCRIPTIONS[signal]}
        for signal in found
    ]
    score = sum(WEIGHTS[signal] for signal in found)
    return SpamVerdict(score, reasons, is_spam=honeypot or score > threshold)
