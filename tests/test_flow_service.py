"""Publishing a form with pages and conditions: what the version keeps, what stops it."""

from __future__ import annotations

import json
import pathlib

import pytest
from werkzeug.datastructures import MultiDict

from app.exceptions import SubmissionInvalid
from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import FormVersion
from app.models import Submission
from app.services import forms
from app.services.forms import definitions
from app.services.submissions import SubmissionContext
from app.services.submissions import submit

MEMBER = {"field": "member", "op": "is", "value": "yes"}
ITEMS = [
    {"key": "about", "type": "page", "label": "About you", "help": "Two questions."},
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "member", "type": "single_choice", "label": "Member?",
     "rules": {"choices": ["yes", "no"]}},
    {"key": "number", "type": "short_text", "label": "Number",
     "show_if": {"condition": "is_member"}},
    {"key": "source", "type": "hidden", "label": "Source"},
    {
        "key": "join",
        "type": "page",
        "label": "Joining",
        "show_if": {"not": {"condition": "is_member"}},
        "rules": {"routes": [{"if": {"field": "why", "op": "empty"}, "goto": "submit"}]},
    },
    {"key": "why", "type": "long_text", "label": "Why join?"},
    {"key": "thanks", "type": "page", "label": "Last words"},
    {"key": "comment", "type": "long_text", "label": "Anything else?"},
]  # fmt: skip


@pytest.fixture
def form(app):
    with app.app_context():
        made = forms.create_form(None, template="blank", slug="join-us")
        forms.save_fields(made, ITEMS)
        forms.save_conditions(made, {"is_member": MEMBER})
        yield made


def test_publishing_keeps_the_pages_and_conditions_in_the_version_and_drops_the_breaks(form):
    version = forms.publish(form, None)

    stored = db.session.get(FormVersion, version.id)
    assert [spec.key for spec in stored.specs] == [
        "name", "member", "number", "source", "why", "comment",
    ]  # fmt: skip
    assert stored.schema["conditions"] == {"is_member": MEMBER}
    assert [(page["id"], page["title"], page["fields"]) for page in stored.schema["pages"]] == [
        ("about", "About you", ["name", "member", "number", "source"]),
        ("join", "Joining", ["why"]),
        ("thanks", "Last words", ["comment"]),
    ]
    assert stored.schema["pages"][0]["description"] == "Two questions."
    walk = stored.flow.walk({"name": "Ann", "member": "no", "why": "", "source": "ad"})
    assert walk.path == ("about", "join")  # an empty "why" goes straight to submit
    assert walk.answers == {"name": "Ann", "member": "no", "why": "", "source": "ad"}
    member = stored.flow.walk({"member": "yes", "number": "7", "why": "stale"})
    assert member.path == ("about", "thanks")
    assert member.answers == {"member": "yes", "number": "7"}


def test_a_version_published_before_pages_existed_is_one_page(app, form):
    version = forms.publish(form, None)
    version.schema = {"schema_version": 1, "fields": version.schema["fields"], "pages": None}
    flow = version.flow
    assert [page.id for page in flow.pages] == ["page-1"]
    assert flow.walk({"number": "7", "member": "no"}).answers == {"member": "no"}


def test_a_draft_with_a_flow_problem_is_saved_but_not_published(form):
    broken = [dict(item) for item in ITEMS]
    broken[3]["show_if"] = {"field": "why", "op": "not_empty"}  # a later question
    forms.save_fields(form, broken)
    assert form.draft_fields[3]["show_if"] == {"field": "why", "op": "not_empty"}

    with pytest.raises(ValidationFailed) as refused:
        forms.publish(form, None)

    assert refused.value.field == "fields[3].show_if.field"
    assert refused.value.message == (
        'Page 1 ("About you"), question "Number", show if: "why" is not asked before this '
        "point; a condition may only use earlier questions."
    )
    assert form.published_version_id is None
    assert [(p.path, p.message) for p in forms.flow_problems_of(form)] == [
        (refused.value.field, refused.value.message)
    ]


def test_a_named_condition_that_is_missing_stops_publishing(form):
    forms.save_conditions(form, None)
    with pytest.raises(ValidationFailed) as refused:
        forms.publish(form, None)
    assert refused.value.field == "fields[3].show_if.condition"
    assert 'no condition is named "is_member"' in refused.value.message


def test_named_conditions_must_be_an_object(form):
    with pytest.raises(ValidationFailed) as refused:
        forms.save_conditions(form, ["is_member"])
    assert refused.value.field == "conditions"
    assert form.draft_conditions == {"is_member": MEMBER}


def submit_answers(form, **answers):
    data = MultiDict()
    for key, value in answers.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(key, item)
    return submit(form, data, MultiDict(), SubmissionContext())


def stored(submission_id):
    return db.session.get(Submission, submission_id)


def test_a_hidden_question_is_not_required_and_its_answer_is_dropped(app):
    with app.app_context(), app.test_request_context():
        form = forms.create_form(None, template="blank", slug="one-page")
        forms.save_fields(form, [
            {"key": "member", "type": "single_choice", "label": "Member?",
             "rules": {"choices": ["yes", "no"]}, "required": True},
            {"key": "number", "type": "short_text", "label": "Number", "required": True,
             "show_if": MEMBER},
        ])  # fmt: skip
        forms.publish(form, None)

        hidden = submit_answers(form, member="no", number="sneaked in")
        assert stored(hidden.submission_id).answers == {"member": "no"}
        assert "path" not in stored(hidden.submission_id).meta

        with pytest.raises(SubmissionInvalid) as refused:
            submit_answers(form, member="yes")
        assert [(e.key, e.code) for e in refused.value.errors] == [
            ("number", "REQUIRED_FIELD_MISSING")
        ]
        shown = submit_answers(form, member="yes", number="42")
        assert stored(shown.submission_id).answers == {"member": "yes", "number": "42"}


def test_answers_posted_at_once_to_a_form_with_pages_follow_its_path(app, form):
    with app.test_request_context():
        forms.publish(form, None)
        # A client that skips pages cannot store answers to questions its path never shows.
        accepted = submit_answers(
            form, name="Ann", member="yes", number="7", why="skipped", comment="hi"
        )
        row = stored(accepted.submission_id)
        # Unanswered is null (the link's hidden value); hidden by the path is absent.
        assert row.answers == {
            "name": "Ann", "member": "yes", "number": "7", "source": None, "comment": "hi",
        }  # fmt: skip
        assert row.meta["path"] == ["about", "thanks"]

        with pytest.raises(SubmissionInvalid) as refused:
            submit_answers(form, member="no", why="fun")  # name is required on page 1
        assert [e.key for e in refused.value.errors] == ["name"]


def readme_example() -> str:
    """The worked example of README's "Pages, logic and save-and-resume", as written there."""
    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("### Pages, logic and save-and-resume") :]
    return section[
        section.index("```json\n") + 8 : section.index("\n```", section.index("```json"))
    ]


def test_the_readme_example_imports_publishes_once_and_walks_as_it_says(app):
    with app.app_context():
        form, created = definitions.import_definition(readme_example())
        assert created
        version = db.session.get(FormVersion, form.published_version_id)
        assert [page["id"] for page in version.schema["pages"]] == ["about", "joining", "last"]
        assert version.flow.walk({"name": "A", "member": "yes"}).path == ("about", "last")
        assert version.flow.walk({"name": "B", "member": "no"}).path == (
            "about", "joining", "last",
        )  # fmt: skip
        exported = definitions.export_definition(form)
        assert exported["conditions"] == {"member": MEMBER}

        again, created = definitions.import_definition(json.dumps(exported))
        assert not created and again.published_version_id == version.id  # nothing changed


def test_a_bad_condition_in_a_definition_names_its_line(app):
    text = readme_example().replace('"value": "yes"}}', '"value": "maybe"}}', 1)
    with app.app_context(), pytest.raises(definitions.DefinitionError) as refused:
        definitions.import_definition(text)
    assert '"maybe", which is not one of its options' in refused.value.message
    assert refused.value.field == "conditions.member.value"
    assert refused.value.line == 3  # where the named condition is written


@pytest.mark.parametrize("days", [0, 366, None, True])
def test_a_resume_period_is_from_1_to_365_days(form, days):
    settings = {**forms.current_settings(form), "allow_saving": True, "resume_days": days}
    with pytest.raises(ValidationFailed) as refused:
        forms.update_settings(form, **settings)
    assert refused.value.field == "resume_days"
    assert refused.value.message == "Use a number of days from 1 to 365."
