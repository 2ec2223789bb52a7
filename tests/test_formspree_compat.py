"""What a site that switches from Formspree gets by changing only its form's address: posts
from any website, Formspree's success and error shapes, its client's headers and its project
address, and the sender's address kept as an answer."""

from __future__ import annotations

import pytest

from app.models import Role
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form
from tests.public_helpers import CONTACT_ANSWERS
from tests.public_helpers import CONTACT_FIELDS
from tests.public_helpers import EVIL_SITE
from tests.public_helpers import SITE
from tests.public_helpers import fetch_endpoint_keys
from tests.public_helpers import fetch_submissions

JSON = {"Accept": "application/json"}
BLOG = "https://blog.example"
FORMSPREE_HEADERS = {
    "Formspree-Client": "@formspree/core@4.0.0",
    "Formspree-Session-Data": "eyJsb2FkZWRBdCI6MX0=",
}


@pytest.fixture
def endpoint(app) -> str:
    return make_endpoint(app, slug="site-contact")


def test_an_endpoint_takes_posts_from_any_website_until_its_editor_lists_some(app, client):
    slug = make_endpoint(app, slug="open-door")
    response = client.post(f"/f/{slug}", data={"name": "Ann"}, headers={"Origin": BLOG, **JSON})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == BLOG
    assert [row.answers for row in fetch_submissions(app, slug)] == [{"name": "Ann"}]

    listed = make_endpoint(app, slug="listed", allowed_origins=[SITE])
    refused = client.post(f"/f/{listed}", data={"name": "Bo"}, headers={"Origin": BLOG, **JSON})
    assert refused.status_code == 403
    assert refused.json["errors"][0]["code"] == "ORIGIN_NOT_ALLOWED"
    assert fetch_submissions(app, listed) == []


def test_a_built_form_still_takes_posts_only_from_its_own_and_listed_websites(app, client):
    slug = make_form(app, CONTACT_FIELDS).slug
    refused = client.post(f"/f/{slug}", data=CONTACT_ANSWERS, headers={"Origin": BLOG, **JSON})
    assert refused.status_code == 403
    assert fetch_submissions(app, slug) == []


def test_success_names_where_a_person_goes_next_as_formspree_does(client, endpoint):
    thanks = client.post(f"/f/{endpoint}", json={"name": "Ann"}, headers=JSON)
    assert thanks.json == {"ok": True, "next": f"http://localhost/f/{endpoint}/thanks"}
    onward = client.post(
        f"/f/{endpoint}",
        json={"name": "Ann", "_next": f"{BLOG}/thanks.html"},
        headers={"Origin": BLOG, **JSON},
    )
    assert onward.json == {"ok": True, "next": f"{BLOG}/thanks.html"}


@pytest.mark.parametrize(
    ("next_value", "headers", "expected"),
    [
        # Back to the website that posted, which browsers name in Origin.
        (f"{BLOG}/thanks.html", {"Origin": BLOG}, f"{BLOG}/thanks.html"),
        # A relative _next resolves against the page that posted, when the browser says it...
        ("thanks.html", {"Origin": BLOG, "Referer": f"{BLOG}/a/contact.html"},
         f"{BLOG}/a/thanks.html"),
        # ... and against the site's root when it only sends the origin (a cross-site post
        # under the default referrer policy).
        ("thanks.html", {"Origin": BLOG, "Referer": f"{BLOG}/"}, f"{BLOG}/thanks.html"),
        # Never to a third website: the form's own thank-you page instead.
        (f"{EVIL_SITE}/", {"Origin": BLOG}, None),
        (f"{BLOG}/thanks.html", {}, None),
    ],
)  # fmt: skip
def test_next_leads_back_to_the_posting_website_only(client, endpoint, next_value, headers,
                                                      expected):  # fmt: skip
    response = client.post(f"/f/{endpoint}", data={"name": "Ann", "_next": next_value},
                           headers=headers)  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == (expected or f"/f/{endpoint}/thanks")


def test_preflight_allows_the_headers_formspree_client_sends(client, endpoint):
    response = client.options(
        f"/f/{endpoint}",
        headers={
            "Origin": BLOG,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "accept,content-type,formspree-client,"
            "formspree-session-data",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == BLOG
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"accept", "content-type", "formspree-client", "formspree-session-data"} <= allowed


def test_formspree_project_address_reaches_the_form_in_the_public_shape(app, client, endpoint):
    posted = client.post(
        f"/p/1234567890/f/{endpoint}",
        json={"name": "Ann"},
        headers={"Origin": BLOG, **JSON, **FORMSPREE_HEADERS},
    )
    assert posted.status_code == 200
    assert posted.json["ok"] is True
    assert [row.answers for row in fetch_submissions(app, endpoint)] == [{"name": "Ann"}]

    preflight = client.options(
        f"/p/1234567890/f/{endpoint}",
        headers={"Origin": BLOG, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    missing = client.post("/p/1234567890/f/nope", json={"name": "Ann"}, headers=JSON)
    assert missing.status_code == 404
    assert missing.json["errors"][0]["code"] == "FORM_NOT_FOUND"
    assert isinstance(missing.json["error"], str)


def test_reply_to_and_subject_are_answers(app, client, endpoint):
    client.post(
        f"/f/{endpoint}",
        data={"message": "Hi", "_replyto": "ann@example.com", "_subject": "Hello from the blog"},
    )
    [row] = fetch_submissions(app, endpoint)
    assert row.answers == {
        "message": "Hi",
        "_replyto": "ann@example.com",
        "_subject": "Hello from the blog",
    }
    assert row.meta["reply_to"] == "ann@example.com"
    assert fetch_endpoint_keys(app, endpoint) == ["_replyto", "_subject", "message"]


def test_the_inbox_searches_and_exports_the_reply_to_address(app, client, endpoint, signed_in):
    client.post(f"/f/{endpoint}", data={"message": "Hi", "_replyto": "ann@example.com"})
    form_id = fetch_submissions(app, endpoint)[0].form_id
    admin = signed_in(Role.VIEWER)
    found = admin.get(f"/forms/{form_id}/submissions?q=ann%40example.com")
    assert "ann@example.com" in found.get_data(as_text=True)
    exported = admin.get(f"/forms/{form_id}/submissions/export?format=csv").get_data(as_text=True)
    header, row = exported.splitlines()[:2]
    assert "_replyto" in header
    assert "ann@example.com" in row


def test_an_invalid_reply_to_is_refused_with_formspree_code(app, client, endpoint):
    response = client.post(
        f"/f/{endpoint}", json={"message": "Hi", "_replyto": "not an address"}, headers=JSON
    )
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "_replyto", "code": "TYPE_EMAIL", "message": "Enter a valid email address."}
    ]
    assert fetch_submissions(app, endpoint) == []


def test_a_subject_alone_is_an_empty_post(app, client, endpoint):
    response = client.post(f"/f/{endpoint}", json={"_subject": "Hello"}, headers=JSON)
    assert response.status_code == 422
    assert response.json["errors"][0]["code"] == "EMPTY"
