"""The forms service without HTTP: versions, field rules, settings, authorization and the
trash."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from app.exceptions import NotAllowed
from app.exceptions import NotFound
from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import Form
from app.models import FormStatus
from app.models import Role
from app.models import User
from app.models.types import utcnow
from app.services import forms
from app.services.forms import definitions
from app.services.forms.settings import SETTINGS
from tests.auth_helpers import make_user
from tests.form_helpers import every_setting


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def user(app, role: Role) -> User:
    user_id = make_user(app, f"{role.value}@example.com", role)
    return db.session.get(User, user_id)


def test_publishing_freezes_a_version_that_later_edits_do_not_touch(app, ctx):
    editor = user(app, Role.EDITOR)
    form = forms.create_form(editor, template="contact", slug="contact")
    first = forms.publish(form, editor)
    assert form.status == FormStatus.OPEN
    assert not form.has_unpublished_changes

    forms.update_field(form, "name", {"label": "Full name"})
    forms.delete_field(form, "message")
    forms.add_field(form, "phone", "Phone")
    assert form.has_unpublished_changes
    assert [s.label for s in first.specs] == ["Name", "Email", "Message"]
    assert form.published_version_id == first.id

    second = forms.publish(form, editor)
    assert (first.number, second.number) == (1, 2)
    assert [s.key for s in second.specs] == ["name", "email", "phone"]
    assert second.specs[0].label == "Full name"
    assert [s.label for s in db.session.get(type(first), first.id).specs] == [
        "Name",
        "Email",
        "Message",
    ]


def test_a_published_key_and_type_stay_fixed_but_a_new_fields_key_can_change(app, ctx):
    form = forms.create_form(None, template="contact", slug="contact")
    forms.publish(form, None)
    with pytest.raises(ValidationFailed, match="its key stays"):
        forms.update_field(form, "email", {"key": "mail"})
    with pytest.raises(ValidationFailed, match="cannot change type"):
        forms.update_field(form, "email", {"type": "short_text"})
    added = forms.add_field(form, "short_text", "Company")
    assert forms.update_field(form, added.key, {"key": "organisation"}).key == "organisation"


def test_a_new_questions_key_follows_its_label_until_published(app, ctx):
    form = forms.create_form(None, slug="party")
    added = forms.add_field(form, "number", "")
    assert added.key == "number"
    renamed = forms.update_field(form, "number", {"label": "How many people?"})
    assert renamed.key == "how_many_people"
    forms.add_field(form, "short_text", "Your name")
    clash = forms.update_field(form, "your_name", {"label": "How many people?"})
    assert clash.key == "how_many_people_2"  # unique in the form

    chosen = forms.update_field(form, "how_many_people_2", {"key": "visitor", "label": "Guest"})
    assert chosen.key == "visitor"
    assert forms.update_field(form, "visitor", {"label": "Your guest"}).key == "visitor"

    forms.publish(form, None)
    assert forms.update_field(form, "how_many_people", {"label": "Head count"}).key == (
        "how_many_people"
    )


def test_a_renamed_key_is_followed_by_the_conditions_routes_and_piping_that_name_it(app, ctx):
    form = forms.create_form(None, slug="club")
    forms.save_fields(
        form,
        [
            {"key": "page_one", "type": "page", "label": "Page one",
             "rules": {"routes": [{"if": {"field": "single_choice", "op": "is", "value": "yes"},
                                   "goto": "last"}], "default": "last"}},
            {"key": "single_choice", "type": "single_choice", "label": "Single choice",
             "rules": {"choices": ["yes", "no"]}},
            {"key": "number", "type": "short_text", "label": "Number",
             "show_if": {"all": [{"field": "single_choice", "op": "is", "value": "yes"}]}},
            {"key": "last", "type": "page", "label": "Last"},
            {"key": "comment", "type": "long_text", "label": "Comment",
             "help": "Since you said {single_choice}."},
        ],
    )  # fmt: skip
    forms.save_conditions(form, {"member": {"field": "single_choice", "op": "is", "value": "yes"}})

    forms.update_field(form, "single_choice", {"label": "Member?"})
    forms.update_field(form, "last", {"label": "The end"})

    by_key = {item["key"]: item for item in form.draft_fields}
    assert list(by_key) == ["page_one", "member", "number", "the_end", "comment"]
    assert by_key["page_one"]["rules"] == {
        "routes": [{"if": {"field": "member", "op": "is", "value": "yes"}, "goto": "the_end"}],
        "default": "the_end",
    }
    assert by_key["number"]["show_if"] == {"all": [{"field": "member", "op": "is", "value": "yes"}]}
    assert by_key["comment"]["help"] == "Since you said {member}."
    assert form.draft_conditions == {"member": {"field": "member", "op": "is", "value": "yes"}}
    forms.publish(form, None)  # the flow still checks


def test_added_fields_get_unique_keys_and_copies_follow_the_original(app, ctx):
    form = forms.create_form(None, slug="blank-form")
    first = forms.add_field(form, "short_text", "Name")
    second = forms.add_field(form, "short_text", "Name")
    copy = forms.duplicate_field(form, first.key)
    assert (first.key, second.key) == ("name", "name_2")
    assert copy.label == "Name (copy)"
    assert [item["key"] for item in form.draft_fields] == ["name", copy.key, "name_2"]


def test_moving_and_reordering_fields(app, ctx):
    form = forms.create_form(None, template="contact", slug="contact")
    forms.move_field(form, "message", -1)
    assert [item["key"] for item in form.draft_fields] == ["name", "message", "email"]
    forms.move_field(form, "name", -5)  # already first: stays
    forms.reorder_fields(form, ["email", "message", "name"])
    assert [item["key"] for item in form.draft_fields] == ["email", "message", "name"]
    with pytest.raises(ValidationFailed, match="every field exactly once"):
        forms.reorder_fields(form, ["email", "name"])


def test_publishing_needs_a_question(app, ctx):
    form = forms.create_form(None, slug="empty")
    forms.add_field(form, "section", "Just a heading")
    with pytest.raises(ValidationFailed, match="at least one question"):
        forms.publish(form, None)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.VIEWER, "read", True),
        (Role.VIEWER, "edit", False),
        (Role.EDITOR, "edit", True),
        (Role.OWNER, "edit", True),
    ],
)
def test_get_form_for_checks_the_role_for_the_action(app, ctx, role, action, allowed):
    form = forms.create_form(None, slug="some-form")
    person = user(app, role)
    if allowed:
        assert forms.get_form_for(person, form.id, action) is form
    else:
        with pytest.raises(NotAllowed):
            forms.get_form_for(person, form.id, action)


def test_trashed_forms_are_found_only_for_restoring(app, ctx):
    owner = user(app, Role.OWNER)
    form = forms.create_form(owner, slug="old-form")
    forms.trash_form(form)
    with pytest.raises(NotFound):
        forms.get_form_for(owner, form.id, "read")
    assert forms.get_form_for(owner, form.id, "edit", trashed=True) is form
    assert forms.list_forms(owner) == []
    assert forms.list_forms(owner, trashed=True) == [form]
    forms.restore_form(form)
    assert forms.list_forms(owner) == [form]


def test_purge_deletes_only_forms_trashed_more_than_30_days_ago(app, ctx, runner):
    recent = forms.create_form(None, slug="recent")
    old = forms.create_form(None, template="contact", slug="old")
    forms.publish(old, None)
    forms.trash_form(recent)
    old.deleted_at = utcnow() - timedelta(days=31)
    db.session.commit()
    result = runner.invoke(args=["forms", "purge-trash"])
    assert "Purged 1 form from the trash." in result.output
    db.session.expire_all()
    assert db.session.scalars(select(Form.slug)).all() == ["recent"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"max_responses": 0}, "max_responses", "from 1"),
        ({"redirect_url": "javascript:alert(1)"}, "redirect_url", "https://"),
        ({"allowed_origins": ["https://ok.example", "ftp://x"]}, "allowed_origins", "ftp://x"),
        ({"allowed_origins": ["https://site.example/path"]}, "allowed_origins", "no path"),
        ({"status": "archived"}, "status", "draft, open or closed"),
    ],
)
def test_settings_are_checked(app, ctx, changes, field, message):
    form = forms.create_form(None, slug="settings")
    with pytest.raises(ValidationFailed, match=message) as raised:
        forms.update_settings(form, **{**every_setting(), **changes})
    assert raised.value.field == field


def test_update_settings_takes_every_setting_and_no_other(app, ctx):
    form = forms.create_form(None, slug="settings")
    with pytest.raises(TypeError, match="max_answers"):
        forms.update_settings(form, **every_setting(), max_answers=5)
    settings = every_setting()
    del settings["submit_label"]
    with pytest.raises(TypeError, match="submit_label"):
        forms.update_settings(form, **settings)


def test_a_definition_carries_every_setting(app, ctx):
    form = forms.create_form(None, template="contact", slug="original")
    forms.update_settings(form, **every_setting())
    exported = definitions.export_definition(form)
    assert exported["status"] == "open"
    assert list(exported["settings"]) == [
        setting.name for setting in SETTINGS if setting.name != "status"
    ]

    copy, created = definitions.import_definition(json.dumps({**exported, "slug": "copy"}))

    assert created
    assert forms.current_settings(copy) == every_setting()


def test_a_definition_without_settings_gives_a_new_forms_settings(app, ctx):
    form = forms.create_form(None, template="contact", slug="original")
    exported = definitions.export_definition(form)
    copy, _ = definitions.import_definition(
        json.dumps({**exported, "slug": "copy", "settings": {}})
    )
    assert forms.current_settings(copy) == forms.current_settings(form)


def test_a_copy_carries_every_setting_but_its_status(app, ctx):
    form = forms.create_form(None, template="contact", slug="original")
    forms.update_settings(form, **every_setting())
    copy = forms.duplicate_form(form, None)
    assert forms.current_settings(copy) == {**every_setting(), "status": "draft"}


def test_slugs_are_unique_and_checked(app, ctx):
    forms.create_form(None, slug="taken")
    with pytest.raises(ValidationFailed, match="already uses"):
        forms.create_form(None, slug="taken")
    with pytest.raises(ValidationFailed, match="lowercase"):
        forms.create_form(None, slug="Has Spaces")
    generated = forms.create_form(None, title="Contact us!")
    assert generated.slug == "contact-us"
    assert forms.create_form(None, title="Contact us!").slug.startswith("contact-us-")
    assert db.session.scalar(select(func.count(Form.id))) == 3
