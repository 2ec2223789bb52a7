"""`flask forms`: forms as code."""

import json

import pytest
from sqlalchemy import func
from sqlalchemy import select

from app.extensions import db
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.services import forms as form_service


def versions_of(app, slug: str) -> int:
    with app.app_context():
        form = form_service.get_form_by_slug(slug)
        query = select(func.count(FormVersion.id)).where(FormVersion.form_id == form.id)
        return db.session.scalar(query)


def test_new_contact_form_from_the_template_and_publish(app, runner, client):
    result = runner.invoke(
        args=["forms", "new", "--template", "contact", "--slug", "hello", "--publish"]
    )
    assert result.exit_code == 0, result.output
    assert "Created form 'hello' (published)" in result.output
    with app.app_context():
        form = form_service.get_form_by_slug("hello")
        specs = form.published_version.specs
    assert [(s.key, s.type, s.required) for s in specs] == [
        ("name", "short_text", True),
        ("email", "email", True),
        ("message", "long_text", True),
    ]
    assert client.get("/f/hello").status_code == 200


def test_new_without_publish_is_a_draft(app, runner, client):
    assert runner.invoke(args=["forms", "new", "--slug", "later"]).exit_code == 0
    assert client.get("/f/later").status_code == 404


def test_new_endpoint_takes_posts_from_any_website_at_once(app, runner, client):
    result = runner.invoke(args=["forms", "new", "--endpoint", "--slug", "site-contact"])
    assert result.exit_code == 0, result.output
    assert "Created endpoint 'site-contact'" in result.output
    with app.app_context():
        form = form_service.get_form_by_slug("site-contact")
        assert form.is_endpoint
        assert form.allowed_origins == []
    posted = client.post(
        "/f/site-contact",
        data={"email": "ann@example.com", "message": "Hi"},
        headers={"Origin": "https://blog.example", "Accept": "application/json"},
    )
    assert posted.status_code == 200
    assert posted.headers["Access-Control-Allow-Origin"] == "https://blog.example"
    with app.app_context():
        [submission] = db.session.scalars(select(Submission)).all()
        assert submission.form_id == form.id
        assert submission.answers == {"email": "ann@example.com", "message": "Hi"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "--template", "contact", "--slug", "x2"], "An endpoint has no questions"),
        (["--template", "nope", "--slug", "x1"], "'nope' is not one of"),
        (["--slug", "Bad Slug!"], "lowercase letters"),
        (["--template", "contact"], "Missing option '--slug'"),
    ],
)
def test_new_rejects_bad_arguments_with_exit_code_2(app, runner, args, message):
    result = runner.invoke(args=["forms", "new", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_export_then_import_elsewhere_round_trips(app, runner, tmp_path):
    runner.invoke(args=["forms", "new", "--template", "event", "--slug", "party", "--publish"])
    exported = runner.invoke(args=["forms", "export", "party"])
    assert exported.exit_code == 0
    definition = json.loads(exported.output)
    assert definition["formyard"] == 1
    assert [field["key"] for field in definition["fields"]][:2] == ["name", "email"]

    definition["slug"] = "party-copy"
    path = tmp_path / "party.json"
    path.write_text(json.dumps(definition, indent=2))
    imported = runner.invoke(args=["forms", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "Created form 'party-copy' (open)" in imported.output
    with app.app_context():
        copy = form_service.get_form_by_slug("party-copy")
        assert copy.draft_fields == definition["fields"]
        assert copy.published_version is not None


def test_import_updates_and_publishes_only_when_something_changed(app, runner, tmp_path):
    runner.invoke(args=["forms", "new", "--template", "contact", "--slug", "contact", "--publish"])
    definition = json.loads(runner.invoke(args=["forms", "export", "contact"]).output)
    path = tmp_path / "contact.json"
    path.write_text(json.dumps(definition))
    assert "Updated form 'contact'" in runner.invoke(args=["forms", "import", str(path)]).output
    assert versions_of(app, "contact") == 1
    definition["fields"][0]["label"] = "Your name"
    path.write_text(json.dumps(definition))
    runner.invoke(args=["forms", "import", str(path)])
    assert versions_of(app, "contact") == 2
    with app.app_context():
        assert (
            form_service.get_form_by_slug("contact").published_version.specs[0].label == "Your name"
        )


BAD_DEFINITIONS = [
    ('{\n  "formyard": 1,\n  "slug": "x",\n  oops\n}', "line 4: not valid JSON"),
    ('{\n  "formyard": 2,\n  "slug": "x"\n}', "line 2:"),
    ('{\n  "formyard": 1,\n  "slug": "x",\n  "colour": "red"\n}', 'line 4: unknown key "colour"'),
    (
        '{\n  "formyard": 1,\n  "slug": "xy",\n  "title": "X",\n  "fields": [\n'
        '    {"key": "a", "type": "short_text", "label": "A"},\n'
        '    {"key": "b", "type": "number", "label": "B",\n'
        '     "rules": {"min": "zero"}}\n  ]\n}',
        'line 8: Field "B": min must be',
    ),
    (
        '{\n  "formyard": 1,\n  "slug": "xy",\n  "title": "X",\n  "fields": [\n'
        '    {"key": "a", "type": "short_text", "label": "A"},\n'
        '    {"key": "a", "type": "email", "label": "Again"}\n  ]\n}',
        "line 7:",
    ),
    ('{\n  "formyard": 1,\n  "slug": "xy",\n  "title": ""\n}', 'line 4: "title" must be'),
]


@pytest.mark.parametrize(("text", "message"), BAD_DEFINITIONS)
def test_import_reports_the_line_of_each_problem_and_writes_nothing(
    app, runner, tmp_path, text, message
):
    path = tmp_path / "bad.json"
    path.write_text(text)
    result = runner.invoke(args=["forms", "import", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Form.id))) == 0


def test_import_of_a_missing_file_exits_2(runner, tmp_path):
    result = runner.invoke(args=["forms", "import", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_export_unknown_slug_exits_2(runner):
    result = runner.invoke(args=["forms", "export", "ghost"])
    assert result.exit_code == 2
    assert "no form with slug 'ghost'" in result.output
