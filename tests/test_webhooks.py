"""Webhooks: endpoints made on their pages, signed JSON bodies sent to a real receiver on
loopback, the Slack and Discord formats, and addresses that must never be called."""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from standardwebhooks import WebhookVerificationError

from app.extensions import db
from app.models import DeliveryStatus
from app.models import Form
from app.models import WebhookEndpoint
from app.services.delivery import netcheck
from app.services.delivery import webhooks
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import Reply
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import attempts_of
from tests.delivery_helpers import fetch_endpoint
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form

README = Path(__file__).resolve().parent.parent / "README.md"
SECRET_RE = re.compile(r'<code class="secret"[^>]*>([^<]+)</code>')
ANSWERS = {"name": "Ann", "email": "ann@example.com", "message": "Hi <there>", "size": "M"}


def readme_verifier():
    """The receiver-side check exactly as the README shows it (with the standardwebhooks
    library)."""
    source = README.read_text()
    block = re.search(r"```python\n(from standardwebhooks import.*?)```", source, re.S).group(1)
    namespace: dict = {}
    exec(block, namespace)
    return namespace["verify_formyard_delivery"]


# --- endpoints on their pages --------------------------------------------------------------------


def test_adding_a_webhook_shows_its_secret_once(mail_app, client, auth, owner, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    auth.login()
    response = auth.post(f"/forms/{form_id}/webhooks", {"url": receiver.url, "preset": "generic"})
    assert response.status_code == 201
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    assert secret.startswith("whsec_")

    listing = client.get(f"/forms/{form_id}/webhooks").get_data(as_text=True)
    assert receiver.url in listing
    [endpoint] = re.findall(rf"/forms/{form_id}/webhooks/(\d+)", listing)
    page = client.get(f"/forms/{form_id}/webhooks/{endpoint}").get_data(as_text=True)
    assert secret not in listing
    assert secret not in page
    assert "Nothing sent yet." in page


def test_a_new_secret_replaces_the_old_one(mail_app, auth, owner, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, old_secret = add_webhook(mail_app, form_id, receiver.url)
    auth.login()
    response = auth.post(f"/forms/{form_id}/webhooks/{endpoint_id}/secret")
    new_secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    assert new_secret != old_secret
    assert fetch_endpoint(mail_app, endpoint_id).secret == new_secret


def test_editing_disabling_and_deleting_a_webhook(mail_app, client, auth, owner, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, _secret = add_webhook(mail_app, form_id, receiver.url)
    auth.login()
    path = f"/forms/{form_id}/webhooks/{endpoint_id}"
    response = auth.post(path, {"url": receiver.url + "?v=2", "preset": "slack"})
    assert response.status_code == 303
    assert response.headers["Location"] == path
    stored = fetch_endpoint(mail_app, endpoint_id)
    assert (stored.url, stored.preset.value, stored.enabled) == (
        receiver.url + "?v=2",
        "slack",
        False,
    )

    submit_answers(mail_app, form_id, ANSWERS)
    assert all_deliveries(mail_app) == []  # a disabled endpoint gets nothing

    response = auth.post(f"{path}/delete")
    assert response.headers["Location"] == f"/forms/{form_id}/webhooks"
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("editor", 200)])
def test_only_editors_manage_webhooks(mail_app, signed_in, receiver, role, status):
    client = signed_in(role)
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, _secret = add_webhook(mail_app, form_id, receiver.url)
    assert client.get(f"/forms/{form_id}/webhooks").status_code == status
    assert client.get(f"/forms/{form_id}/webhooks/{endpoint_id}").status_code == status


def test_another_forms_webhook_is_not_found(mail_app, client, auth, owner, receiver):
    first = make_form(mail_app, CONTACT_FIELDS).id
    second = make_form(mail_app, CONTACT_FIELDS, slug="other").id
    endpoint_id, _secret = add_webhook(mail_app, first, receiver.url)
    auth.login()
    assert client.get(f"/forms/{second}/webhooks/{endpoint_id}").status_code == 404
    assert auth.post(f"/forms/{second}/webhooks/{endpoint_id}/test").status_code == 404


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "starting with https://"),
        ("example.com/hook", "starting with https://"),
        ("https://user:pw@example.com/hook", "Leave the user name and password out"),
        ("http://[::1", "not a valid web address"),
        ("https://no-such-host.invalid/hook", "could not be found"),
    ],
)
def test_malformed_webhook_urls_are_refused(mail_app, auth, owner, url, message):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    auth.login()
    response = auth.post(f"/forms/{form_id}/webhooks", {"url": url, "preset": "generic"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


# --- SSRF --------------------------------------------------------------------------------------

INTERNAL_URLS = [
    "http://127.0.0.1/hook",
    "http://127.1:8080/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://localhost/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_addresses_are_refused_at_save(app, auth, owner, url):
    assert app.config["WEBHOOK_ALLOW_PRIVATE"] is False  # the production default
    form_id = make_form(app, CONTACT_FIELDS).id
    auth.login()
    response = auth.post(f"/forms/{form_id}/webhooks", {"url": url, "preset": "generic"})
    assert response.status_code == 422
    assert "points to an internal address" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("address", "allow_private", "allowed"),
    [
        ("93.184.215.14", False, True),
        ("2606:4700:4700::1111", False, True),
        ("127.0.0.1", False, False),
        ("127.0.0.1", True, True),
        ("10.1.2.3", True, True),
        ("fd12::1", True, True),
        ("169.254.169.254", True, False),  # link-local: never, even in development
        ("fe80::1%eth0", True, False),
        ("0.0.0.0", True, False),
        ("239.1.1.1", True, False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", True, False),  # Teredo
    ],
)
def test_address_policy(address, allow_private, allowed):
    assert netcheck.address_allowed(address, allow_private=allow_private) is allowed


def test_a_host_with_one_internal_address_among_public_ones_is_refused(monkeypatch):
    monkeypatch.setattr(
        netcheck, "system_resolver", lambda host, port: ["93.184.215.14", "10.0.0.1"]
    )
    with pytest.raises(netcheck.UnsafeURL, match=r"internal address \(10.0.0.1\)"):
        netcheck.check_url("https://mixed.example/hook", allow_private=False)


def test_address_is_checked_again_at_send_time(mail_app, receiver, monkeypatch):
    """DNS rebinding: the name was public when saved, and points inside when sent."""
    answers = {"hooks.example.test": ["93.184.215.14"]}
    monkeypatch.setattr(netcheck, "system_resolver", lambda host, port: answers[host])
    mail_app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, "http://hooks.example.test:9/hook")

    answers["hooks.example.test"] = ["127.0.0.1"]
    submit_answers(mail_app, form_id, ANSWERS)
    run_worker(mail_app)

    [delivery] = all_deliveries(mail_app)
    [attempt] = attempts_of(mail_app, delivery.id)
    assert not attempt.succeeded
    assert "points to an internal address (127.0.0.1)" in attempt.error
    assert attempt.status_code is None
    assert delivery.status == DeliveryStatus.PENDING  # retried later, in case DNS changes back


def test_the_request_goes_to_the_address_that_was_checked(mail_app, receiver, monkeypatch):
    port = receiver.server.server_address[1]
    lookups = []

    def resolver(host, port_):
        lookups.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(netcheck, "system_resolver", resolver)
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, f"http://hooks.example.test:{port}/in")
    submit_answers(mail_app, form_id, ANSWERS)
    lookups.clear()
    run_worker(mail_app)

    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.example.test:{port}"
    assert request.path == "/in"
    assert lookups == ["hooks.example.test"]  # one lookup, checked and used


def test_a_redirect_is_not_followed(mail_app, receiver):
    receiver.script(Reply(302, b"", headers={"Location": "http://169.254.169.254/latest/"}))
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    run_worker(mail_app)

    assert len(receiver.requests) == 1
    [delivery] = all_deliveries(mail_app)
    [attempt] = attempts_of(mail_app, delivery.id)
    assert attempt.status_code == 302
    assert attempt.error.startswith("Redirect to http://169.254.169.254/latest/ not followed")


# --- what is sent ------------------------------------------------------------------------------


def test_submission_body_has_the_form_its_version_and_answers_by_key_and_label(mail_app, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url)
    submission_id = submit_answers(mail_app, form_id, ANSWERS)
    assert run_worker(mail_app) == 1

    [request] = receiver.requests
    body = request.json()
    assert body["event"] == "submission.created"
    assert body["form"] == {
        "id": form_id,
        "slug": "contact",
        "title": "Contact us",
        "url": "http://127.0.0.1:5000/f/contact",
    }
    assert body["version"] == 1
    assert body["submission"]["id"] == submission_id
    assert body["answers"] == {
        "name": "Ann",
        "work_email": None,
        "email": "ann@example.com",
        "message": "Hi <there>",
        "size": "M",
    }
    assert [(f["key"], f["label"], f["type"]) for f in body["fields"]] == [
        ("name", "Your name", "short_text"),
        ("work_email", "Work email", "email"),
        ("email", "Email", "email"),
        ("message", "Message", "long_text"),
        ("size", "Size", "single_choice"),
    ]


BRANCHED_FIELDS = [
    {"key": "name", "type": "short_text", "label": "Name"},
    {"key": "member", "type": "single_choice", "label": "Member?",
     "rules": {"choices": ["yes", "no"]}},
    {"key": "number", "type": "short_text", "label": "Number",
     "show_if": {"field": "member", "op": "is", "value": "yes"}},
    {"key": "more", "type": "page", "label": "More"},
    {"key": "comment", "type": "long_text", "label": "Anything else?"},
]  # fmt: skip


def test_a_question_the_logic_hid_is_left_out_and_the_path_is_sent(mail_app, receiver):
    form_id = make_form(mail_app, BRANCHED_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, {"name": "Ann", "member": "no", "number": "sneaked in"})
    run_worker(mail_app)

    [request] = receiver.requests
    body = request.json()
    assert body["answers"] == {"name": "Ann", "member": "no", "comment": None}
    assert [field["key"] for field in body["fields"]] == ["name", "member", "comment"]
    assert body["submission"]["path"] == ["page-1", "more"]


def test_a_static_sites_reply_to_address_is_sent_as_an_answer(mail_app, receiver):
    form_id = make_form(mail_app, kind="endpoint", slug="site").id
    add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, {"message": "Hi", "_replyto": "ann@example.com"})
    run_worker(mail_app)

    [request] = receiver.requests
    body = request.json()
    assert body["answers"] == {"message": "Hi", "_replyto": "ann@example.com"}
    assert [field["key"] for field in body["fields"]] == ["message", "_replyto"]


def test_headers_are_standard_webhooks_that_the_readme_check_verifies(mail_app, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    _endpoint_id, secret = add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    run_worker(mail_app)

    [request] = receiver.requests
    [delivery] = all_deliveries(mail_app)
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("Formyard-Webhooks/")
    assert headers["webhook-id"] == delivery.public_id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])
    assert headers["X-Formyard-Event"] == "submission.created"

    verify = readme_verifier()
    assert verify(secret, request.body, headers)["answers"]["name"] == "Ann"
    assert verify(secret, request.body + b" ", headers) is None
    assert verify(webhooks.new_secret(), request.body, headers) is None


def test_a_captured_delivery_cannot_be_replayed_under_another_id(mail_app, receiver):
    """The signature covers the id: the same body, timestamp and signature under a new id (to
    get past a receiver's "seen this id" check) is refused."""
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    _endpoint_id, secret = add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    run_worker(mail_app)
    [request] = receiver.requests
    replayed = {**request.headers, "webhook-id": str(uuid.uuid4())}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body, replayed)


def test_an_old_timestamp_is_refused_by_the_library(receiver):
    secret = webhooks.new_secret()
    body = b'{"event":"test"}'
    old = webhooks.request_headers(secret, "id", "test", body, timestamp=int(time.time()) - 3600)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, old)
    fresh = webhooks.request_headers(secret, "id", "test", body)
    assert readme_verifier()(secret, body, fresh) == {"event": "test"}


def test_secrets_are_32_random_bytes_in_the_standard_form():
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret != webhooks.new_secret()


def test_the_deprecated_headers_are_still_sent_and_keyed_with_the_same_bytes(mail_app, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    _endpoint_id, secret = add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    run_worker(mail_app)
    [request] = receiver.requests
    headers = request.headers
    assert headers["X-Formyard-Delivery"] == headers["webhook-id"]
    timestamp, signature = re.fullmatch(
        r"t=(\d+),v1=([0-9a-f]{64})", headers["X-Formyard-Signature"]
    ).groups()
    assert timestamp == headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{timestamp}.".encode() + request.body
    assert hmac.new(key, signed, hashlib.sha256).hexdigest() == signature


def test_an_old_secret_in_the_readmes_new_form_verifies_and_keeps_its_old_signature():
    """What migration 0011 and the README promise an endpoint made before: its old secret's
    text stays the key, so its old X-Formyard-Signature check passes unchanged, and the
    README's conversion gives a secret the library takes."""
    old_secret = "whsec_" + "Hj6nCLcPN8g5AOpLA8lB8kegAKlIASfaSe6GvAqB3is"
    stored = "whsec_" + base64.b64encode(old_secret.encode()).decode()  # as README says
    body = b'{"event":"test"}'
    headers = webhooks.request_headers(stored, "id-1", "test", body)
    timestamp = headers["webhook-timestamp"]
    old_check = hmac.new(old_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers["X-Formyard-Signature"] == f"t={timestamp},v1={old_check.hexdigest()}"
    assert Webhook(stored).verify(body, headers) == {"event": "test"}


def test_endpoint_forms_send_every_posted_field(mail_app, receiver, client):
    form_id = make_form(mail_app, slug="site", kind="endpoint").id
    add_webhook(mail_app, form_id, receiver.url)
    client.post("/f/site", data={"email": "a@example.com", "topic": ["x", "y"], "_next": "/t"})
    run_worker(mail_app)
    body = receiver.requests[0].json()
    assert body["version"] is None
    assert body["answers"] == {"email": "a@example.com", "topic": ["x", "y"]}
    assert body["fields"][1] == {
        "key": "topic",
        "label": "topic",
        "type": None,
        "value": ["x", "y"],
        "display": "x, y",
    }


def test_slack_preset_sends_an_escaped_text_message(mail_app, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url, preset="slack")
    submit_answers(mail_app, form_id, {**ANSWERS, "message": "<!channel> & hi"})
    run_worker(mail_app)
    body = receiver.requests[0].json()
    assert list(body) == ["text"]
    assert body["text"].splitlines() == [
        "New response to *Contact us*",
        "*Your name*: Ann",
        "*Work email*: _none_",
        "*Email*: ann@example.com",
        "*Message*: &lt;!channel&gt; &amp; hi",
        "*Size*: M",
    ]


def test_discord_preset_sends_an_embed_that_mentions_nobody(mail_app, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url, preset="discord")
    submit_answers(mail_app, form_id, {**ANSWERS, "message": "@everyone look"})
    run_worker(mail_app)
    body = receiver.requests[0].json()
    assert body["content"] == "New response to **Contact us**"
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["title"] == "Contact us"
    assert {"name": "Message", "value": "@everyone look", "inline": False} in embed["fields"]
    assert {"name": "Work email", "value": "(no answer)", "inline": False} in embed["fields"]


# --- test events, the log and redelivery -------------------------------------------------------


def test_send_test_event_then_read_the_log(mail_app, client, auth, owner, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, secret = add_webhook(mail_app, form_id, receiver.url)
    receiver.script(Reply(200, b'{"received": true}'))
    auth.login()
    path = f"/forms/{form_id}/webhooks/{endpoint_id}"
    response = auth.post(f"{path}/test")
    assert response.status_code == 303
    assert response.headers["Location"] == path
    assert "Test event queued" in client.get(path).get_data(as_text=True)

    assert run_worker(mail_app) == 1
    [request] = receiver.requests
    assert request.headers["X-Formyard-Event"] == "test"
    assert request.json()["event"] == "test"
    assert readme_verifier()(secret, request.body, request.headers)["event"] == "test"

    page = client.get(path).get_data(as_text=True)
    assert "<strong>200</strong>" in page
    assert "{&#34;received&#34;: true}" in page
    assert re.search(r"<td>\d+ ms</td>", page)
    assert request.headers["webhook-id"] in page


def queue_test_event(app, form_id: int, endpoint_id: int) -> None:
    with app.app_context():
        form = db.session.get(Form, form_id)
        webhooks.queue_test_event(form, db.session.get(WebhookEndpoint, endpoint_id))


SAMPLED_FIELDS = [
    *CONTACT_FIELDS,
    {"key": "guests", "type": "number", "label": "Guests", "rules": {"kind": "integer"}},
    {
        "key": "topics",
        "type": "multiple_choice",
        "label": "Topics",
        "rules": {"choices": ["a", "b"]},
    },
    {"key": "day", "type": "date", "label": "Day"},
    {"key": "cv", "type": "file", "label": "CV"},
]


def test_a_test_event_carries_a_sample_answer_to_each_question(mail_app, receiver):
    form_id = make_form(mail_app, SAMPLED_FIELDS).id
    endpoint_id, _secret = add_webhook(mail_app, form_id, receiver.url)
    queue_test_event(mail_app, form_id, endpoint_id)
    run_worker(mail_app)
    body = receiver.requests[0].json()
    assert (body["event"], body["test"], body["submission"]["id"]) == ("test", True, None)
    fields = {field["key"]: field for field in body["fields"]}
    # Every question but the section heading, with its label and type, as a real submission.
    assert list(fields) == [
        "name",
        "work_email",
        "email",
        "message",
        "size",
        "guests",
        "topics",
        "day",
        "cv",
    ]
    assert fields["name"]["label"] == "Your name" and fields["name"]["type"] == "short_text"
    assert re.fullmatch(r"\S+@\S+\.\S+", body["answers"]["work_email"])
    assert body["answers"]["size"] in {"S", "M"}
    assert isinstance(body["answers"]["guests"], int)
    assert set(body["answers"]["topics"]) <= {"a", "b"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", body["answers"]["day"])
    assert body["answers"]["cv"]["name"] == "sample.pdf"
    assert all(field["display"] for field in body["fields"])
    assert body["answers"] == {key: field["value"] for key, field in fields.items()}


def test_a_slack_test_event_lists_the_sample_answers(mail_app, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, _secret = add_webhook(mail_app, form_id, receiver.url, preset="slack")
    queue_test_event(mail_app, form_id, endpoint_id)
    run_worker(mail_app)
    text = receiver.requests[0].json()["text"]
    assert text.startswith("Test event from Formyard for the form Contact us")
    assert "\n*Your name*: " in text and "\n*Size*: " in text


def test_redeliver_sends_the_same_body_with_a_new_id(mail_app, auth, owner, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, _secret = add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    run_worker(mail_app)
    [original] = all_deliveries(mail_app)

    auth.login()
    path = f"/forms/{form_id}/webhooks/{endpoint_id}"
    response = auth.post(f"{path}/deliveries/{original.id}/redeliver")
    assert response.status_code == 303
    run_worker(mail_app)

    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
    copy = all_deliveries(mail_app)[1]
    assert (copy.trigger.value, copy.max_attempts, copy.status) == ("redelivery", 1, "delivered")
    assert auth.post(f"{path}/deliveries/999/redeliver").status_code == 404


def test_the_readmes_javascript_receiver_verifies_a_delivery(mail_app, receiver, tmp_path):
    """README's JavaScript, run by Node with the vendored standardwebhooks npm package."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("node is not installed but REQUIRE_SERVICES=1")
        pytest.skip("node is not installed")
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    _endpoint_id, secret = add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    run_worker(mail_app)
    [request] = receiver.requests
    delivery = {
        "secret": secret,
        "other_secret": webhooks.new_secret(),
        "body": request.body.decode(),
        "headers": request.headers,
        "answers": request.json()["answers"],
    }
    (tmp_path / "delivery.json").write_text(json.dumps(delivery))
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", "tests/webhooks/readme_receiver.test.mjs"],
        cwd=README.parent,
        env={**os.environ, "FORMYARD_DELIVERY": str(tmp_path / "delivery.json")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "pass 2" in output, output
