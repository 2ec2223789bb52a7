"""Webhooks through the API: list, add (the secret shown once), delete, and the delivery log of
what was really sent to a receiver."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from app.models import Role
from app.services.delivery import netcheck
from tests.api_helpers import CONTACT_FIELDS
from tests.api_helpers import ApiClient
from tests.api_helpers import error_of
from tests.api_helpers import make_token
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.form_helpers import make_form

ANN = {"name": "Ann", "email": "ann@example.com"}


@pytest.fixture
def api(app, client, owner) -> ApiClient:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver listens on loopback
    return ApiClient(client, make_token(app, "ed@example.com", Role.EDITOR))


@pytest.fixture
def form_id(app) -> int:
    return make_form(app, CONTACT_FIELDS).id


def test_add_shows_the_secret_once_and_list_never(app, api, form_id, receiver):
    response = api.post(f"/forms/{form_id}/webhooks", json={"url": receiver.url + "?key=abc"})
    assert response.status_code == 201
    created = response.get_json()
    assert created["secret"].startswith("whsec_")
    assert created["url"] == receiver.url  # the query string may hold the receiver's key
    assert (created["preset"], created["enabled"]) == ("generic", True)

    listed = api.get(f"/forms/{form_id}/webhooks")
    assert listed.status_code == 200
    [endpoint] = listed.get_json()["data"]
    assert endpoint["id"] == created["id"]
    assert "secret" not in endpoint
    assert created["secret"] not in listed.get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "ftp://example.org/hook"}, "url", "Give a full web address"),
        ({"url": "http://169.254.169.254/latest"}, "url", "internal address"),
        ({"url": "https://hooks.example/x", "preset": "teams"}, "preset", "Must be one of"),
        ({}, "url", "Missing data for required field."),
    ],
)
def test_add_refuses_with_field_details(app, api, form_id, body, field, message, monkeypatch):
    public = "93.184.215.14"
    monkeypatch.setattr(
        netcheck, "system_resolver", lambda host, port: [host if host[0].isdigit() else public]
    )
    response = api.post(f"/forms/{form_id}/webhooks", json=body)
    assert response.status_code == 422
    assert message in error_of(response)["details"][field][0]


@pytest.mark.parametrize(
    "data",
    [{"url": ""}, {"url": "https://hooks.example/" + "x" * 2000}, {}],
    ids=["empty", "too long", "left out"],
)
def test_the_page_and_the_api_refuse_a_url_with_the_services_message(
    app, client, auth, api, form_id, data
):
    message = "Give a full web address starting with https:// (or http://)."
    if "url" in data:
        response = api.post(f"/forms/{form_id}/webhooks", json=data)
        assert error_of(response)["details"] == {"url": [message]}
    auth.login()  # the owner, on the webhooks page
    page = auth.post(f"/forms/{form_id}/webhooks", {**data, "preset": "generic"})
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)


def test_private_addresses_are_refused_unless_allowed(app, api, form_id, receiver):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    response = api.post(f"/forms/{form_id}/webhooks", json={"url": receiver.url})
    assert response.status_code == 422
    assert error_of(response)["code"] == "unsafe_url"


def test_delete_removes_it(app, api, form_id, receiver):
    webhook_id = api.post(f"/forms/{form_id}/webhooks", json={"url": receiver.url}).get_json()["id"]
    assert api.delete(f"/webhooks/{webhook_id}").status_code == 204
    assert api.get(f"/forms/{form_id}/webhooks").get_json()["data"] == []
    assert api.delete(f"/webhooks/{webhook_id}").status_code == 404
    assert api.get(f"/webhooks/{webhook_id}/deliveries").status_code == 404


def test_deliveries_show_what_was_sent_with_each_attempt(app, api, form_id, receiver):
    created = api.post(f"/forms/{form_id}/webhooks", json={"url": receiver.url}).get_json()
    receiver.script(500)  # the first try fails, the retry succeeds
    submission = api.post(f"/forms/{form_id}/submissions", json={"answers": ANN}).get_json()

    [pending] = api.get(f"/webhooks/{created['id']}/deliveries").get_json()["data"]
    assert (pending["status"], pending["attempt_count"], pending["attempts"]) == ("pending", 0, [])
    assert pending["submission_id"] == submission["id"]

    assert run_worker(app) == 1
    [failed_once] = api.get(f"/webhooks/{created['id']}/deliveries").get_json()["data"]
    assert failed_once["status"] == "pending"
    [attempt] = failed_once["attempts"]
    assert (attempt["number"], attempt["succeeded"], attempt["status_code"]) == (1, False, 500)

    [request] = receiver.requests
    assert request.headers["webhook-id"] == failed_once["delivery_id"]
    verified = Webhook(created["secret"]).verify(request.body, request.headers)
    assert verified["answers"]["name"] == "Ann"


def test_delivery_pages_follow_the_cursor(app, api, form_id, receiver):
    webhook_id = api.post(f"/forms/{form_id}/webhooks", json={"url": receiver.url}).get_json()["id"]
    for number in range(27):
        api.post(f"/forms/{form_id}/submissions", json={"answers": {**ANN, "name": f"N{number}"}})
    first = api.get(f"/webhooks/{webhook_id}/deliveries").get_json()
    assert len(first["data"]) == 25
    second = api.get(f"/webhooks/{webhook_id}/deliveries?cursor={first['next_cursor']}")
    assert len(second.get_json()["data"]) == 2
    assert second.get_json()["next_cursor"] is None
    ids = [row["id"] for row in first["data"] + second.get_json()["data"]]
    assert ids == sorted(set(ids), reverse=True)
    for bad in ("abc", "-1", "²", "99999999999999999999"):
        response = api.get(f"/webhooks/{webhook_id}/deliveries?cursor={bad}")
        assert response.status_code == 400
        assert "cursor" in error_of(response)["details"]


def test_webhooks_are_for_editors(app, client, api, form_id, receiver):
    webhook_id = api.post(f"/forms/{form_id}/webhooks", json={"url": receiver.url}).get_json()["id"]
    viewer = ApiClient(client, make_token(app, "viewer@example.com", Role.VIEWER, "write"))
    assert viewer.get(f"/forms/{form_id}/webhooks").status_code == 403
    assert viewer.get(f"/webhooks/{webhook_id}/deliveries").status_code == 403
    assert viewer.delete(f"/webhooks/{webhook_id}").status_code == 403
    assert viewer.post(f"/forms/{form_id}/webhooks", json={"url": receiver.url}).status_code == 403
    assert len(api.get(f"/forms/{form_id}/webhooks").get_json()["data"]) == 1


def test_a_trashed_forms_webhooks_are_gone_from_the_api(app, api, form_id, receiver):
    webhook_id = api.post(f"/forms/{form_id}/webhooks", json={"url": receiver.url}).get_json()["id"]
    api.delete(f"/forms/{form_id}")
    assert api.get(f"/webhooks/{webhook_id}/deliveries").status_code == 404
    assert api.delete(f"/webhooks/{webhook_id}").status_code == 404
