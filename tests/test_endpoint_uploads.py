"""Files posted to a static-site (endpoint) form: kept only if their content is of a kind the
editor allows (images, PDF, documents, spreadsheets and text by default), never active content."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.caching import clear_process_caches
from app.fields.filekinds import ENDPOINT_DEFAULT_KINDS
from app.models import Role
from tests.api_helpers import ApiClient
from tests.api_helpers import make_token
from tests.auth_helpers import AuthActions
from tests.form_helpers import change_settings
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form
from tests.public_helpers import CONTACT_FIELDS
from tests.public_helpers import PNG
from tests.public_helpers import fetch_files
from tests.public_helpers import fetch_form
from tests.public_helpers import fetch_submissions
from tests.public_helpers import parse_page

ENDPOINT = "/f/uploads"
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML_BYTES = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 112 + b"PE\x00\x00"


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_process_caches()


@pytest.fixture
def endpoint(app) -> str:
    return make_endpoint(app, slug="uploads")


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def _post(client, filename: str, content: bytes, headers=JSON):
    data = {"name": "Ann", "attachment": (io.BytesIO(content), filename, "image/png")}
    return client.post(ENDPOINT, data=data, headers=headers)


ACTIVE_CONTENT = [
    ("evil.html", HTML_BYTES),
    ("evil.htm", HTML_BYTES),
    ("evil.svg", SVG),
    ("x.exe", EXE),
    ("evil.js", b"alert(document.cookie)"),
    ("x.png", HTML_BYTES),  # HTML bytes under an image's name
    ("x.pdf", EXE),
    ("x.txt", HTML_BYTES),  # text that a browser would render as a page
    ("notes.csv", b"\xef\xbb\xbf  <svg onload=alert(1)>"),
    ("x", HTML_BYTES),  # no name to go by: the content says HTML
]


@pytest.mark.parametrize(("filename", "content"), ACTIVE_CONTENT)
def test_active_content_is_refused_with_a_json_code_and_nothing_is_stored(
    app, client, endpoint, filename, content
):
    response = _post(client, filename, content)
    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["field"] == "attachment"
    assert error["code"] == "FILE_TYPE_NOT_ALLOWED"
    assert fetch_submissions(app, endpoint) == []
    assert fetch_files(app, endpoint) == []
    assert fetch_form(app, endpoint).submission_count == 0


@pytest.mark.parametrize(("filename", "content"), ACTIVE_CONTENT[:3] + ACTIVE_CONTENT[5:6])
def test_active_content_is_refused_with_a_page_saying_why(app, client, endpoint, filename, content):
    response = _post(client, filename, content, headers=HTML)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    text = parse_page(response).find("main").text
    assert "not accepted here" in text or "is not what its name" in text
    assert fetch_submissions(app, endpoint) == []


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        ("map.png", PNG, "image/png"),
        ("Quote 2026.pdf", PDF, "application/pdf"),
        ("notes.txt", b"plain words\n", "text/plain"),
        ("photo", PNG, "image/png"),  # a phone's name without extension: the content names it
    ],
)
def test_images_pdf_and_text_are_kept_with_their_checked_type(
    app, client, endpoint, filename, content, content_type
):
    response = _post(client, filename, content)
    assert response.status_code == 200
    [row] = fetch_submissions(app, endpoint)
    [stored] = fetch_files(app, endpoint)
    assert row.answers["attachment"]["content_type"] == content_type
    assert stored.content_type == content_type
    assert stored.data == content


def test_the_default_is_images_pdf_documents_spreadsheets_and_text(app, endpoint):
    assert fetch_form(app, endpoint).endpoint_file_kinds == list(ENDPOINT_DEFAULT_KINDS)
    assert ENDPOINT_DEFAULT_KINDS == ("image", "pdf", "document", "spreadsheet", "text")


def test_an_archive_is_refused_by_default_and_kept_once_the_editor_allows_it(app, client, endpoint):
    assert _post(client, "files.zip", _zip_bytes()).status_code == 422
    change_settings(app, endpoint, endpoint_file_kinds=[*ENDPOINT_DEFAULT_KINDS, "archive"])
    clear_process_caches()
    assert _post(client, "files.zip", _zip_bytes()).status_code == 200
    [stored] = fetch_files(app, endpoint)
    assert stored.content_type == "application/zip"


def test_the_editor_can_narrow_the_kinds_to_pdf(app, client, endpoint):
    change_settings(app, endpoint, endpoint_file_kinds=["pdf"])
    response = _post(client, "map.png", PNG)
    assert response.status_code == 422
    assert response.json["errors"][0]["message"] == (
        "This type of file is not accepted here; please send PDF."
    )
    assert _post(client, "quote.pdf", PDF).status_code == 200
    assert [file.filename for file in fetch_files(app, endpoint)] == ["quote.pdf"]


def test_no_kind_ticked_refuses_every_file(app, client, endpoint):
    change_settings(app, endpoint, endpoint_file_kinds=[])
    response = _post(client, "quote.pdf", PDF)
    assert response.status_code == 422
    assert response.json["errors"][0]["message"] == "This form does not take files."
    assert client.post(ENDPOINT, data={"name": "Ann"}, headers=JSON).status_code == 200


def test_every_kind_allowed_still_refuses_active_content(app, client, endpoint):
    every = ["image", "pdf", "document", "spreadsheet", "text", "archive", "audio", "video"]
    change_settings(app, endpoint, endpoint_file_kinds=every)
    for filename, content in ACTIVE_CONTENT:
        response = _post(client, filename, content)
        assert response.status_code == 422, filename
    assert fetch_submissions(app, endpoint) == []


def test_spam_keeps_no_file_of_a_kind_the_form_refuses(app, client, endpoint):
    data = {
        "name": "Bot",
        "_gotcha": "filled",
        "page": (io.BytesIO(HTML_BYTES), "evil.html", "text/html"),
        "photo": (io.BytesIO(PNG), "photo.png", "image/png"),
    }
    assert client.post(ENDPOINT, data=data, headers=JSON).status_code == 200
    [row] = fetch_submissions(app, endpoint)
    assert row.is_spam
    assert "page" not in row.answers
    assert [file.filename for file in fetch_files(app, endpoint)] == ["photo.png"]


# --- where the editor chooses ---------------------------------------------------------------


def test_the_builder_shows_the_kinds_for_an_endpoint_and_saves_them(app, signed_in):
    client = signed_in()
    made = make_form(app, title="Site", slug="site", kind="endpoint")
    form_id = made.id
    page = parse_page(client.get(f"/forms/{form_id}/settings"))
    boxes = page.find_all("input", name="endpoint_file_kinds")
    assert [box.attrs["value"] for box in boxes if box.has("checked")] == list(
        ENDPOINT_DEFAULT_KINDS
    )
    assert "Files this form keeps" in page.text
    settings = {"status": "open", "submit_label": "Send", "endpoint_file_kinds": ["pdf", "image"]}
    response = AuthActions(client).post(f"/forms/{form_id}/settings", settings)
    assert response.status_code == 303
    assert fetch_form(app, made.slug).endpoint_file_kinds == ["image", "pdf"]


def test_the_builder_refuses_a_kind_it_does_not_know(app, signed_in):
    client = signed_in()
    made = make_form(app, title="Site", slug="site", kind="endpoint")
    form_id = made.id
    settings = {"status": "open", "submit_label": "Send", "endpoint_file_kinds": ["html"]}
    response = AuthActions(client).post(f"/forms/{form_id}/settings", settings)
    assert response.status_code == 422
    assert "Choose kinds of file from" in response.get_data(as_text=True)
    assert fetch_form(app, made.slug).endpoint_file_kinds == list(ENDPOINT_DEFAULT_KINDS)


def test_a_built_form_has_no_such_input_and_keeps_its_value(app, signed_in):
    client = signed_in()
    made = make_form(app, CONTACT_FIELDS, slug="contact")
    form_id = made.id
    page = client.get(f"/forms/{form_id}/settings").get_data(as_text=True)
    assert 'name="endpoint_file_kinds"' not in page
    response = AuthActions(client).post(
        f"/forms/{form_id}/settings", {"status": "open", "submit_label": "Go"}
    )
    assert response.status_code == 303
    assert fetch_form(app, made.slug).endpoint_file_kinds == list(ENDPOINT_DEFAULT_KINDS)


def test_the_api_reads_and_changes_the_kinds(app, client, owner):
    api = ApiClient(client, make_token(app, "ed@example.com", Role.EDITOR))
    made = make_form(app, title="Site", slug="site", kind="endpoint")
    form_id = made.id
    settings = api.get(f"/forms/{form_id}").get_json()["settings"]
    assert settings["endpoint_file_kinds"] == list(ENDPOINT_DEFAULT_KINDS)
    changed = api.patch(f"/forms/{form_id}", json={"settings": {"endpoint_file_kinds": ["pdf"]}})
    assert changed.status_code == 200
    assert changed.get_json()["settings"]["endpoint_file_kinds"] == ["pdf"]
    refused = api.patch(f"/forms/{form_id}", json={"settings": {"endpoint_file_kinds": ["exe"]}})
    assert refused.status_code in (400, 422)
    assert fetch_form(app, made.slug).endpoint_file_kinds == ["pdf"]
