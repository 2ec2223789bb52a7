"""Starting points for new forms. Each is what an editor would otherwise build by hand."""

from __future__ import annotations

import copy
from typing import Any


def _field(key: str, type_: str, label: str, required: bool = False, **extra: Any) -> dict:
    return {"key": key, "type": type_, "label": label, "required": required, **extra}


def _choices(*labels: str) -> dict:
    return {
        "choices": [{"value": label.lower().replace(" ", "_"), "label": label} for label in labels]
    }


TEMPLATES: dict[str, dict[str, Any]] = {
    "blank": {"title": "Untitled form", "description": "", "fields": []},
    "contact": {
        "title": "Contact us",
        "description": "Send us a message and we will answer by email.",
        "fields": [
            _field("name", "short_text", "Name", True),
            _field("email", "email", "Email", True),
            _field("message", "long_text", "Message", True),
        ],
    },
    "event": {
        "title": "Event registration",
        "description": "Save your seat.",
        "fields": [
            _field("name", "short_text", "Full name", True),
            _field("email", "email", "Email", True),
            _field("organisation", "short_text", "Organisation"),
            _field(
                "session",
                "single_choice",
                "Which session?",
                True,
                rules=_choices("Morning", "Afternoon"),
            ),
            _field(
                "dietary",
                "multiple_choice",
                "Dietary needs",
                rules=_choices("Vegetarian", "Vegan", "Gluten free"),
            ),
            _field(
                "guests",
                "number",
                "Guests you bring",
                rules={"kind": "integer", "min": 0, "max": 5},
            ),
            _field("consent", "consent", "I agree to be contacted about this event", True),
        ],
    },
    "feedback": {
        "title": "Feedback",
        "description": "Tell us how we are doing. It takes a minute.",
        "fields": [
            _field(
                "nps",
                "rating",
                "How likely are you to recommend us to a friend?",
                True,
                rules={"scale": "nps"},
            ),
            _field(
                "satisfaction", "rating", "How satisfied are you overall?", rules={"scale": "stars"}
            ),
            _field("liked", "long_text", "What did you like most?"),
            _field("improve", "long_text", "What should we improve?"),
            _field("email", "email", "Email, if you would like an answer"),
        ],
    },
    "job_application": {
        "title": "Job application",
        "description": "Apply for a position with us.",
        "fields": [
            _field("name", "short_text", "Full name", True),
            _field("email", "email", "Email", True),
            _field("phone", "phone", "Phone"),
            _field(
                "position",
                "dropdown",
                "Position",
                True,
                rules=_choices("Engineer", "Designer", "Support"),
            ),
            _field("portfolio", "url", "Portfolio or LinkedIn"),
            _field(
                "cv", "file", "CV", True, rules={"accept": ["pdf", "document"], "max_size_mb": 10}
            ),
            _field("start_date", "date", "Earliest start date"),
            _field("cover_letter", "long_text", "Cover letter"),
        ],
    },
    "bug_report": {
        "title": "Bug report",
        "description": "Found something broken? Tell us what happened.",
        "fields": [
            _field("summary", "short_text", "Summary", True, rules={"max_length": 200}),
            _field(
                "severity",
                "single_choice",
                "Severity",
                True,
                rules=_choices("Low", "Medium", "High", "Critical"),
            ),
            _field("steps", "long_text", "Steps to reproduce", True),
            _field("expected", "long_text", "What did you expect?"),
            _field("page_url", "url", "Page where it happened"),
            _field(
                "screenshot", "file", "Screenshot", rules={"accept": ["image"], "max_size_mb": 5}
            ),
            _field("email", "email", "Email for follow-up"),
        ],
    },
}
TEMPLATE_TITLES = {
    "blank": "Blank form",
    "contact": "Contact",
    "event": "Event registration",
    "feedback": "Feedback with NPS",
    "job_application": "Job application with CV upload",
    "bug_report": "Bug report",
}


def get_template(name: str) -> dict[str, Any]:
    """A deep copy of the template ``name``; ``KeyError`` when there is none."""
    return copy.deepcopy(TEMPLATES[name])
