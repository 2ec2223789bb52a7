"""Idempotency keys as the IETF Idempotency-Key draft has them, on the public endpoint, a page's
one-time token and the API: same key and body, the first answer again; same key, other body,
422; same key while the first request is still being handled, 409."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict

from app.caching import clear_process_caches
from app.extensions import db
from app.models import IdempotencyClaim
from app.models import Role
from app.models.types import utcnow
from app.services.submissions import accepting
from app.services.submissions.idempotency import CLAIM_LIFETIME
from app.services.submissions.idempotency import request_fingerprint
from tests.api_helpers import ApiClient
from tests.api_helpers import error_of
from tests.api_helpers import make_token
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form
from tests.public_helpers import CONTACT_ANSWERS
from tests.public_helpers import CONTACT_FIELDS
from tests.public_helpers import PNG
from tests.public_helpers import fetch_files
from tests.public_helpers import fetch_form
from tests.public_helpers import fetch_submissions
from tests.public_helpers import page_token
from tests.public_helpers import parse_page

JSON = {"Accept": "application/json"}
ENDPOINT = "/f/site"
ANN = {"name": "Ann", "message": "Call me back"}
BEA = {"name": "Bea", "message": "Something else entirely"}


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_process_caches()


@pytest.fixture
def endpoint(app) -> str:
    return make_endpoint(app, slug="site")


def _claims(app) -> list[IdempotencyClaim]:
    with app.app_context():
        return db.session.query(IdempotencyClaim).all()


# --- the fingerprint ---------------------------------------------------------------------------


def _upload(content: bytes, name: str = "a.png") -> FileStorage:
    return FileStorage(io.BytesIO(content), name)


def test_the_fingerprint_is_of_the_answers_not_of_how_they_were_written():
    one = MultiDict([("name", "Ann"), ("tag", "a"), ("tag", "b")])
    other = MultiDict([("tag", "a"), ("name", "Ann"), ("tag", "b")])
    assert request_fingerprint(one, MultiDict()) == request_fingerprint(other, MultiDict())
    swapped = MultiDict([("name", "Ann"), ("tag", "b"), ("tag", "a")])
    assert request_fingerprint(one, MultiDict()) != request_fingerprint(swapped, MultiDict())
    assert request_fingerprint(one, MultiDict()) != request_fingerprint(
        MultiDict([("name", "Ann "), ("tag", "a"), ("tag", "b")]), MultiDict()
    )


def test_the_fingerprint_covers_each_files_name_and_bytes_and_leaves_it_readable():
    fields = MultiDict({"name": "Ann"})
    upload = _upload(PNG)
    first = request_fingerprint(fields, MultiDict({"photo": upload}))
    assert upload.stream.read() == PNG  # left at its start for validation
    assert first == request_fingerprint(fields, MultiDict({"photo": _upload(PNG)}))
    assert first != request_fingerprint(fields, MultiDict({"photo": _upload(PNG + b"\0")}))
    assert first != request_fingerprint(fields, MultiDict({"photo": _upload(PNG, "b.png")}))
    assert first != request_fingerprint(fields, MultiDict({"other": _upload(PNG)}))


# --- the public endpoint -----------------------------------------------------------------------


def test_a_repeat_with_the_same_key_and_body_is_stored_once(app, client, endpoint):
    headers = {"Idempotency-Key": "order-7", **JSON}
    first = client.post(ENDPOINT, json=ANN, headers=headers)
    # The same answers, their keys in another order: the same request.
    again = client.post(ENDPOINT, json=dict(reversed(ANN.items())), headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json == again.json == {"ok": True, "next": "http://localhost/f/site/thanks"}
    [row] = fetch_submissions(app, endpoint)
    assert row.answers == ANN
    assert fetch_form(app, endpoint).submission_count == 1
    assert _claims(app) == []


@pytest.mark.parametrize("body", ["json", "urlencoded"])
def test_the_same_key_with_another_body_is_refused_and_the_first_kept(app, client, endpoint, body):
    headers = {"Idempotency-Key": "order-7", **JSON}
    post = (
        (lambda data: client.post(ENDPOINT, json=data, headers=headers))
        if body == "json"
        else (lambda data: client.post(ENDPOINT, data=data, headers=headers))
    )
    assert post(ANN).status_code == 200
    response = post(BEA)
    assert response.status_code == 422
    assert response.json["errors"] == [
        {
            "field": None,
            "code": "IDEMPOTENCY_KEY_REUSED",
            "message": response.json["error"],
        }
    ]
    assert "already used for a submission with other answers" in response.json["error"]
    [row] = fetch_submissions(app, endpoint)
    assert row.answers == ANN
    assert fetch_form(app, endpoint).submission_count == 1


def test_the_same_key_with_another_file_is_refused_and_nothing_of_it_stored(app, client, endpoint):
    headers = {"Idempotency-Key": "upload-1", **JSON}

    def post(content: bytes):
        data = {"name": "Ann", "photo": (io.BytesIO(content), "photo.png", "image/png")}
        return client.post(ENDPOINT, data=data, headers=headers)

    assert post(PNG).status_code == 200
    assert post(PNG).status_code == 200  # the same bytes: a repeat
    response = post(PNG + b"trailing")
    assert response.status_code == 422
    assert response.json["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    [row] = fetch_submissions(app, endpoint)
    [stored] = fetch_files(app, endpoint)
    assert stored.data == PNG
    assert row.answers["photo"]["file_id"] == stored.id


def test_a_page_sent_again_with_other_answers_says_so_and_keeps_the_first(app, client):
    slug = make_form(app, CONTACT_FIELDS, slug="contact").slug
    token = page_token(client.get(f"/f/{slug}"))
    first = client.post(f"/f/{slug}", data={**CONTACT_ANSWERS, "_token": token})
    double_click = client.post(f"/f/{slug}", data={**CONTACT_ANSWERS, "_token": token})
    assert (first.status_code, double_click.status_code) == (303, 303)
    # Back in the browser, an answer changed, and the same page sent again.
    changed = {**CONTACT_ANSWERS, "message": "Changed my mind", "_token": token}
    response = client.post(f"/f/{slug}", data=changed)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    text = parse_page(response).find("main").text
    assert "This page was already sent with other answers" in text
    assert "Open the form again" in text
    [row] = fetch_submissions(app, slug)
    assert row.answers["message"] == CONTACT_ANSWERS["message"]


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def api_token(app, owner) -> str:
    return make_token(app, "ed@example.com", Role.EDITOR)


def _api_post(app, token: str, form_id: int, answers: dict, key: str):
    api = ApiClient(app.test_client(), token)
    headers = {"Idempotency-Key": key}
    return api.post(f"/forms/{form_id}/submissions", json={"answers": answers}, headers=headers)


def test_the_api_answers_a_repeat_with_the_first_submission(app, api_token):
    form_id = make_form(app, CONTACT_FIELDS, slug="contact").id
    first = _api_post(app, api_token, form_id, CONTACT_ANSWERS, "crm-1")
    again = _api_post(app, api_token, form_id, dict(reversed(CONTACT_ANSWERS.items())), "crm-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(fetch_submissions(app, "contact")) == 1


def test_the_api_refuses_the_same_key_with_other_answers(app, api_token):
    form_id = make_form(app, CONTACT_FIELDS, slug="contact").id
    first = _api_post(app, api_token, form_id, CONTACT_ANSWERS, "crm-1")
    other = {**CONTACT_ANSWERS, "name": "Bea"}
    response = _api_post(app, api_token, form_id, other, "crm-1")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key was already used" in error["message"]
    [row] = fetch_submissions(app, "contact")
    assert row.id == first.get_json()["id"]
    assert row.answers["name"] == "Ann"


# --- in flight -----------------------------------------------------------------------------------


class HeldFirstRequest:
    """Holds the first request that gets past its key's claim until ``release``."""

    def __init__(self, monkeypatch) -> None:
        self.inside = threading.Event()
        self.go_on = threading.Event()
        self.held = False
        original = accepting.check_can_submit

        def holding(form, context):
            if not self.held:
                self.held = True
                self.inside.set()
                assert self.go_on.wait(30)
            return original(form, context)

        monkeypatch.setattr(accepting, "check_can_submit", holding)

    def run(self, call):
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault("response", call()))
        thread.start()
        assert self.inside.wait(30), "the first request never started"
        return thread, result

    def release(self, thread) -> None:
        self.go_on.set()
        thread.join(30)


def test_the_endpoint_answers_409_while_the_first_request_is_handled(app, endpoint, monkeypatch):
    held = HeldFirstRequest(monkeypatch)
    headers = {"Idempotency-Key": "slow-1", **JSON}

    def post(data):
        return app.test_client().post(ENDPOINT, json=data, headers=headers)

    thread, first = held.run(lambda: post(ANN))
    during = post(ANN)
    assert during.status_code == 409
    assert during.json["errors"][0]["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
    assert "still being handled" in during.json["error"]
    held.release(thread)
    assert first["response"].status_code == 200
    after = post(ANN)
    assert after.status_code == 200
    [row] = fetch_submissions(app, endpoint)
    assert row.answers == ANN
    assert _claims(app) == []


def test_the_api_answers_409_while_the_first_request_is_handled(app, api_token, monkeypatch):
    form_id = make_form(app, CONTACT_FIELDS, slug="contact").id
    held = HeldFirstRequest(monkeypatch)
    thread, first = held.run(lambda: _api_post(app, api_token, form_id, CONTACT_ANSWERS, "k"))
    during = _api_post(app, api_token, form_id, {**CONTACT_ANSWERS, "name": "Bea"}, "k")
    assert during.status_code == 409
    assert error_of(during)["code"] == "idempotency_key_in_flight"
    held.release(thread)
    assert first["response"].status_code == 201
    after = _api_post(app, api_token, form_id, CONTACT_ANSWERS, "k")
    assert after.status_code == 200
    assert after.get_json()["id"] == first["response"].get_json()["id"]
    assert len(fetch_submissions(app, "contact")) == 1


def test_a_refused_first_request_frees_its_key(app, client, endpoint):
    headers = {"Idempotency-Key": "retry-after-fix", **JSON}
    refused = client.post(ENDPOINT, json={"email": "not an address"}, headers=headers)
    assert refused.status_code == 422
    assert _claims(app) == []
    fixed = client.post(ENDPOINT, json={"email": "ann@example.com"}, headers=headers)
    assert fixed.status_code == 200


def test_a_claim_left_by_a_request_that_died_is_taken_over(app, client, endpoint):
    form_id = fetch_form(app, endpoint).id
    with app.app_context():
        died_at = utcnow() - CLAIM_LIFETIME - timedelta(seconds=1)
        db.session.add(IdempotencyClaim(form_id=form_id, key="orphan", claimed_at=died_at))
        db.session.add(IdempotencyClaim(form_id=form_id, key="live", claimed_at=utcnow()))
        db.session.commit()
    response = client.post(ENDPOINT, json=ANN, headers={"Idempotency-Key": "orphan", **JSON})
    assert response.status_code == 200
    held = client.post(ENDPOINT, json=ANN, headers={"Idempotency-Key": "live", **JSON})
    assert held.status_code == 409
    assert [claim.key for claim in _claims(app)] == ["live"]
    assert len(fetch_submissions(app, endpoint)) == 1


@pytest.mark.parametrize("same_body", [True, False])
def test_concurrent_requests_with_one_key_never_store_two(app, endpoint, same_body):
    """Requests racing with one key: one is stored; each other one gets its answer (a
    repeat), 409 (in flight) or 422 (another body); never a second acknowledged row."""
    rounds, racers = 4, 4
    for round_number in range(rounds):
        key = f"race-{round_number}"
        start = threading.Barrier(racers)
        responses = []

        def race(index: int, key: str = key, start: threading.Barrier = start) -> None:
            body = ANN if same_body or index == 0 else {**BEA, "n": str(index)}
            client = app.test_client()
            start.wait()
            response = client.post(
                ENDPOINT,
                json=body,
                headers={"Idempotency-Key": key, **JSON},
                # Each from an address of its own: the posting limit is not what is tested.
                environ_base={"REMOTE_ADDR": f"10.0.{key[-1]}.{index}"},
            )
            responses.append((body, response.status_code))

        threads = [threading.Thread(target=race, args=(index,)) for index in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(responses) == racers
        assert {status for _body, status in responses} <= {200, 409, 422}
        stored = [row for row in fetch_submissions(app, endpoint) if row.idempotency_key == key]
        assert len(stored) == 1
        acknowledged = {
            json.dumps(body, sort_keys=True) for body, status in responses if status == 200
        }
        # Only the stored body was acknowledged.
        assert acknowledged == {json.dumps(stored[0].answers, sort_keys=True)}
    assert _claims(app) == []
