"""Every page of one form carries the same tabs, with the current one marked, and each person
sees the tabs their role opens."""

from __future__ import annotations

import pytest

from app.models import Role
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form
from tests.public_helpers import CONTACT_FIELDS
from tests.public_helpers import parse_page

EDITOR_TABS = ["Build", "Settings", "Notifications", "Submissions", "Summary", "Share"]


def tabs_of(response) -> tuple[list[str], list[str]]:
    [nav] = parse_page(response).find_all("nav", class_="form-tabs")
    links = nav.find_all("a")
    return [link.text for link in links], [link.text for link in links if link.has("aria-current")]


@pytest.fixture
def form_id(app) -> int:
    made = make_form(app, CONTACT_FIELDS)
    submit_answers(app, made.id, {"name": "Ann", "email": "ann@example.com"})
    return made.id


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/forms/{id}", "Build"),
        ("/forms/{id}/fields/name", "Build"),
        ("/forms/{id}/flow", "Build"),
        ("/forms/{id}/settings", "Settings"),
        ("/forms/{id}/notifications", "Notifications"),
        ("/forms/{id}/webhooks", "Notifications"),
        ("/forms/{id}/submissions", "Submissions"),
        ("/forms/{id}/submissions/1", "Submissions"),
        ("/forms/{id}/summary", "Summary"),
        ("/forms/{id}/share", "Share"),
    ],
)
def test_every_page_of_a_form_has_the_tabs_with_its_own_marked(signed_in, form_id, path, current):
    response = signed_in(Role.EDITOR).get(path.format(id=form_id))
    assert response.status_code == 200
    assert tabs_of(response) == (EDITOR_TABS, [current])


def test_a_viewer_sees_only_the_tabs_they_may_open(signed_in, form_id):
    client = signed_in(Role.VIEWER)
    response = client.get(f"/forms/{form_id}/submissions")
    assert tabs_of(response) == (["Submissions", "Summary", "Share"], ["Submissions"])
    share = client.get(f"/forms/{form_id}/share")
    assert share.status_code == 200
    assert "http://127.0.0.1:5000/f/contact" in share.get_data(as_text=True)
    assert client.get(f"/forms/{form_id}/settings").status_code == 403


def test_the_share_page_holds_the_link_and_the_codes(signed_in, form_id):
    page = parse_page(signed_in(Role.EDITOR).get(f"/forms/{form_id}/share"))
    assert "/f/contact/embed" in page.find(id="embed-snippet").text
    assert 'action="http://127.0.0.1:5000/f/contact"' in page.find(id="endpoint-snippet").text
