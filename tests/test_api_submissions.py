"""Submissions through the API: new ones checked as the public page checks them, the inbox's
filters and search, cursor pages that hold still while submissions arrive, and one submission
read, flagged, trashed and restored."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Delivery
from app.models import Role
from app.models import Submission
from tests.api_helpers import CONTACT_FIELDS
from tests.api_helpers import ApiClient
from tests.api_helpers import error_of
from tests.api_helpers import make_token
from tests.form_helpers import make_form
from tests.public_helpers import PNG

ANN = {"name": "Ann", "email": "ann@example.com", "topic": "sales", "message": "Hello Lisbon"}


@pytest.fixture
def api(app, client, owner) -> ApiClient:
    return ApiClient(client, make_token(app, "ed@example.com", Role.EDITOR))


@pytest.fixture
def form_id(app) -> int:
    return make_form(app, CONTACT_FIELDS).id


def submit(api: ApiClient, form_id: int, answers: dict, **kwargs) -> dict:
    response = api.post(f"/forms/{form_id}/submissions", json={"answers": answers}, **kwargs)
    assert response.status_code in {200, 201}, response.get_json()
    return response.get_json()


def stored_submission(app, submission_id: int) -> Submission:
    with app.app_context():
        row = db.session.get(Submission, submission_id)
        db.session.expunge(row)
        return row


# --- creating ------------------------------------------------------------------------------------


def test_create_stores_answers_by_key_and_announces_them(app, api, form_id):
    response = api.post(f"/forms/{form_id}/submissions", json={"answers": ANN})
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["Location"] == f"/api/v1/submissions/{created['id']}"
    assert created["answers"] == {**ANN, "cv": None}
    assert created["version"] == 1
    assert created["read"] is False
    assert created["spam"] is False
    assert created["meta"]["reply_to"] == "ann@example.com"
    assert datetime.fromisoformat(created["created_at"]).tzinfo == UTC
    assert stored_submission(app, created["id"]).answers["name"] == "Ann"
    with app.app_context():
        assert db.session.query(Delivery).count() == 0  # nothing set up to hear of it


@pytest.mark.parametrize(
    ("answers", "details"),
    [
        ({"email": "ann@example.com"}, {"answers.name": ["This field is required."]}),
        (
            {"name": "Ann", "email": "nope"},
            {"answers.email": ["An email address must have an @-sign."]},
        ),
        (
            {"name": "Ann", "email": "ann@example.com", "topic": "gossip"},
            {"answers.topic": ["Choose one of the options shown."]},
        ),
        (
            {},
            {
                "answers.name": ["This field is required."],
                "answers.email": ["This field is required."],
            },
        ),
    ],
)
def test_invalid_answers_are_refused_as_on_the_public_page(app, api, form_id, answers, details):
    response = api.post(f"/forms/{form_id}/submissions", json={"answers": answers})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["details"] == details
    with app.app_context():
        assert db.session.query(Submission).count() == 0


@pytest.mark.parametrize("value", [{"first": "Ann"}, [["Ann"]], [{"first": "Ann"}]])
def test_an_answer_no_page_could_send_is_refused_by_name(app, client, api, form_id, value):
    answers = {**ANN, "name": value}
    response = api.post(f"/forms/{form_id}/submissions", json={"answers": answers})
    assert response.status_code == 422
    assert error_of(response)["details"] == {
        "answers.name": ["Give text, a number, true or false, or a list of those."]
    }
    # The public page's JSON takes the same path to the same refusal.
    page = client.post("/f/contact", json=answers, headers={"Accept": "application/json"})
    assert page.status_code == 422
    assert page.get_json()["errors"][0]["field"] == "name"
    with app.app_context():
        assert db.session.query(Submission).count() == 0


def test_answers_must_be_an_object(app, api, form_id):
    for body in ({}, {"answers": ["Ann"]}, {"answers": "Ann"}):
        response = api.post(f"/forms/{form_id}/submissions", json=body)
        assert response.status_code == 422
        assert "answers" in error_of(response)["details"]


def test_a_retry_with_the_same_idempotency_key_is_stored_once(app, api, form_id):
    headers = {"Idempotency-Key": "order-1234"}
    first = api.post(f"/forms/{form_id}/submissions", json={"answers": ANN}, headers=headers)
    again = api.post(f"/forms/{form_id}/submissions", json={"answers": ANN}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    with app.app_context():
        assert db.session.query(Submission).count() == 1


@pytest.mark.parametrize("key", ["k" * 201, "tab\there"])
def test_a_bad_idempotency_key_answers_400(api, form_id, key):
    response = api.post(
        f"/forms/{form_id}/submissions",
        json={"answers": ANN},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["message"]


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"status": "closed"}, "form_closed"),
        ({"status": "draft"}, "form_draft"),
        ({"closes_at": "2020-01-01T00:00:00Z"}, "form_expired"),
    ],
)
def test_a_form_not_taking_submissions_answers_409(app, api, form_id, settings, code):
    api.patch(f"/forms/{form_id}", json={"settings": settings})
    response = api.post(f"/forms/{form_id}/submissions", json={"answers": ANN})
    assert response.status_code == 409
    assert error_of(response)["code"] == code


def test_a_full_form_answers_409(app, api, form_id):
    api.patch(f"/forms/{form_id}", json={"settings": {"max_responses": 1}})
    submit(api, form_id, ANN)
    response = api.post(f"/forms/{form_id}/submissions", json={"answers": ANN})
    assert response.status_code == 409
    assert error_of(response)["code"] == "form_full"


def test_the_honeypot_sends_it_to_spam(app, api, form_id):
    created = submit(api, form_id, {**ANN, "_gotcha": "I am a bot"})
    assert created["spam"] is True
    assert created["spam_reason"] == "honeypot"


def test_a_draft_form_unknown_to_the_public_is_still_404_when_missing(api):
    response = api.post("/forms/999/submissions", json={"answers": ANN})
    assert response.status_code == 404


# --- one submission ------------------------------------------------------------------------------


def test_read_one_does_not_mark_it_read(app, api, form_id):
    created = submit(api, form_id, ANN)
    response = api.get(f"/submissions/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created
    assert stored_submission(app, created["id"]).is_read is False


def test_patch_flags(app, api, form_id):
    created = submit(api, form_id, ANN)
    response = api.patch(f"/submissions/{created['id']}", json={"read": True, "starred": True})
    assert response.status_code == 200
    assert (response.get_json()["read"], response.get_json()["starred"]) == (True, True)
    stored = stored_submission(app, created["id"])
    assert (stored.is_read, stored.is_starred) == (True, True)

    spam = api.patch(f"/submissions/{created['id']}", json={"spam": True}).get_json()
    assert (spam["spam"], spam["spam_reason"]) == (True, "manual")
    back = api.patch(f"/submissions/{created['id']}", json={"spam": False}).get_json()
    assert back["spam"] is False


def test_moving_out_of_spam_into_a_full_form_answers_409_and_changes_nothing(app, api, form_id):
    spam = submit(api, form_id, {**ANN, "_gotcha": "bot"})
    api.patch(f"/forms/{form_id}", json={"settings": {"max_responses": 1}})
    submit(api, form_id, ANN)
    response = api.patch(f"/submissions/{spam['id']}", json={"spam": False, "starred": True})
    assert response.status_code == 409
    stored = stored_submission(app, spam["id"])
    assert (stored.is_spam, stored.is_starred) == (True, False)


def test_delete_trashes_and_patch_restores(app, api, form_id):
    created = submit(api, form_id, ANN)
    assert api.delete(f"/submissions/{created['id']}").status_code == 204
    trashed = api.get(f"/submissions/{created['id']}").get_json()
    assert trashed["trashed_at"] is not None
    listed = api.get(f"/forms/{form_id}/submissions?folder=trash").get_json()["data"]
    assert [row["id"] for row in listed] == [created["id"]]
    restored = api.patch(f"/submissions/{created['id']}", json={"trashed": False}).get_json()
    assert restored["trashed_at"] is None


def test_unknown_submission_and_trashed_forms_submissions_are_404(app, api, form_id):
    created = submit(api, form_id, ANN)
    assert api.get("/submissions/424242").status_code == 404
    api.delete(f"/forms/{form_id}")
    for response in (
        api.get(f"/submissions/{created['id']}"),
        api.patch(f"/submissions/{created['id']}", json={"read": True}),
        api.delete(f"/submissions/{created['id']}"),
    ):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_a_viewer_reads_submissions_but_cannot_flag_them(app, client, api, form_id):
    created = submit(api, form_id, ANN)
    viewer = ApiClient(client, make_token(app, "viewer@example.com", Role.VIEWER, "write"))
    assert viewer.get(f"/submissions/{created['id']}").status_code == 200
    assert viewer.patch(f"/submissions/{created['id']}", json={"read": True}).status_code == 403
    assert viewer.delete(f"/submissions/{created['id']}").status_code == 403
    assert stored_submission(app, created["id"]).is_read is False


def test_file_answers_link_to_a_download_that_needs_a_token(app, client, api, form_id):
    posted = client.post(
        "/f/contact",
        data={**ANN, "cv": (io.BytesIO(PNG), "me.png")},
        headers={"Accept": "application/json"},
    )
    assert posted.status_code == 200, posted.get_json()
    [row] = api.get(f"/forms/{form_id}/submissions").get_json()["data"]
    cv = row["answers"]["cv"]
    assert (cv["name"], cv["content_type"], cv["size"]) == ("me.png", "image/png", len(PNG))
    path = cv["url"].removeprefix("http://127.0.0.1:5000")
    assert path.startswith(f"/api/v1/forms/{form_id}/files/")
    download = api.client.get(path, headers=api.headers)
    assert download.status_code == 200
    assert download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert client.get(path).status_code == 401
    assert api.get(f"/forms/{form_id}/files/nothing-here").status_code == 404


# --- lists, filters, search ----------------------------------------------------------------------


def test_filters_and_search_are_the_inboxs(app, api, form_id):
    ann = submit(api, form_id, ANN)
    bob = submit(api, form_id, {"name": "Bob", "email": "bob@example.com", "topic": "press"})
    cid = submit(api, form_id, {"name": "Cid", "email": "cid@example.com", "topic": "support"})
    api.patch(f"/submissions/{bob['id']}", json={"starred": True, "read": True})
    api.patch(f"/submissions/{cid['id']}", json={"spam": True})

    def ids(query: str) -> list[int]:
        response = api.get(f"/forms/{form_id}/submissions{query}")
        assert response.status_code == 200, response.get_json()
        return [row["id"] for row in response.get_json()["data"]]

    assert ids("") == [bob["id"], ann["id"]]
    assert ids("?folder=spam") == [cid["id"]]
    assert ids("?starred=true") == [bob["id"]]
    assert ids("?read=unread") == [ann["id"]]
    assert ids("?q=lis") == [ann["id"]]
    assert ids("?q=bob") == [bob["id"]]
    assert ids("?f.topic=sales&f.topic=press") == [bob["id"], ann["id"]]
    assert ids("?f.topic=press") == [bob["id"]]
    today = datetime.now(UTC).date()
    assert ids(f"?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}") == [
        bob["id"],
        ann["id"],
    ]
    assert ids(f"?to={today - timedelta(days=2)}") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?folder=archive", "folder"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=ten", "limit"),
        ("?from=yesterday", "from"),
        ("?to=9999-12-31", "to"),
        ("?read=maybe", "read"),
        ("?starred=perhaps", "starred"),
        ("?cursor=abc", "cursor"),
        ("?cursor=999999999999999999.1", "cursor"),
        ("?cursor=1.99999999999999999999", "cursor"),
        ("?stared=true", "stared"),
        ("?f.topik=sales", "f.topik"),
        ("?f.name=Ann", "f.name"),  # a question, but not a choice
    ],
)
def test_malformed_list_arguments_answer_400(api, form_id, query, field):
    response = api.get(f"/forms/{form_id}/submissions{query}")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert field in error["details"]


def test_cursor_pages_cover_everything_once_in_order(app, api, form_id):
    created = [submit(api, form_id, {**ANN, "name": f"P{number}"})["id"] for number in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/forms/{form_id}/submissions{query}").get_json()
        seen += [row["id"] for row in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == created[::-1]


def test_cursor_pages_hold_still_while_submissions_arrive(app, api, form_id):
    """New submissions are newer than every cursor, so they never shift a later page."""
    before = [submit(api, form_id, {**ANN, "name": f"Old{number}"})["id"] for number in range(6)]
    first = api.get(f"/forms/{form_id}/submissions?limit=2").get_json()
    for number in range(5):
        submit(api, form_id, {**ANN, "name": f"New{number}"})
    seen = [row["id"] for row in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.get(f"/forms/{form_id}/submissions?limit=2&cursor={cursor}").get_json()
        seen += [row["id"] for row in page["data"]]
        cursor = page["next_cursor"]
    assert seen == before[::-1]


def test_paging_while_another_client_submits_concurrently(app, client, api, form_id):
    existing = [submit(api, form_id, {**ANN, "name": f"Old{n}"})["id"] for n in range(12)]
    writer = ApiClient(app.test_client(), make_token(app, "writer@example.com", Role.EDITOR))
    stop = threading.Event()
    added: list[int] = []
    failures: list[object] = []

    def keep_submitting() -> None:
        while not stop.is_set() and len(added) < 200:
            response = writer.post(
                f"/forms/{form_id}/submissions", json={"answers": {**ANN, "name": "Live"}}
            )
            if response.status_code != 201:
                failures.append(response.get_json())
                return
            added.append(response.get_json()["id"])

    thread = threading.Thread(target=keep_submitting)
    thread.start()
    try:
        seen, places, cursor = [], [], None
        while True:
            arrived = len(added)
            query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = api.get(f"/forms/{form_id}/submissions{query}").get_json()
            wait_for_more(added, arrived)  # so that every page is read with new rows about
            seen += [row["id"] for row in page["data"]]
            places += [
                (datetime.fromisoformat(row["created_at"]), row["id"]) for row in page["data"]
            ]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not failures
    assert len(added) >= 6, "too few submissions arrived while paging to test anything"
    assert len(seen) == len(set(seen)), "a submission came twice"
    assert places == sorted(places, reverse=True), "pages went out of order"
    assert set(existing) <= set(seen), "a submission that was there all along was skipped"
    assert set(seen) <= set(existing) | set(added)


def wait_for_more(items: list, count: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while len(items) <= count and time.monotonic() < deadline:
        time.sleep(0.005)
