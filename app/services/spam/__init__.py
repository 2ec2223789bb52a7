"""Spam protection: a post's signals and score (scoring), and proof of work (proof_of_work)."""

from app.services.spam.proof_of_work import check_proof_of_work
from app.services.spam.proof_of_work import new_challenge
from app.services.spam.scoring import DEFAULT_THRESHOLD
from app.services.spam.scoring import DESCRIPTIONS
from app.services.spam.scoring import WEIGHTS
from app.services.spam.scoring import RequestSignals
from app.services.spam.scoring import Signal
from app.services.spam.scoring import SpamVerdict
from app.services.spam.scoring import TokenState
from app.services.spam.scoring import answer_texts
from app.services.spam.scoring import content_signals
from app.services.spam.scoring import judge_spam
from app.services.spam.scoring import request_signals_of

__all__ = [
    "DEFAULT_THRESHOLD",
    "DESCRIPTIONS",
    "WEIGHTS",
    "RequestSignals",
    "Signal",
    "SpamVerdict",
    "TokenState",
    "answer_texts",
    "check_proof_of_work",
    "content_signals",
    "judge_spam",
    "new_challenge",
    "request_signals_of",
]
