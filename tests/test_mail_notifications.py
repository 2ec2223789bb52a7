"""A new submission emails the form's recipients (and, if asked, the respondent) through the
outbox and a worker, to a real SMTP server on loopback."""

import pytest

from app.models import DeliveryStatus
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import set_recipients
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form

ANSWERS = {
    "name": "Ann <b>Lee</b>",
    "work_email": "",
    "email": "ann@example.com",
    "message": "Hello,\nsecond line",
    "size": "M",
}


def test_each_recipient_gets_every_answer_as_text_and_html(mail_app, smtp_server, client):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    set_recipients(mail_app, form_id, "team@example.org\nBoss@Example.org")
    response = client.post("/f/contact", data=ANSWERS)
    assert response.status_code == 303

    assert run_worker(mail_app) == 2
    assert sorted(to for mail in smtp_server.messages for to in mail.rcpt_tos) == [
        "boss@example.org",
        "team@example.org",
    ]
    mail = smtp_server.one_to("team@example.org")
    message = mail.message
    assert message["Subject"] == "New response to Contact us"
    assert message["From"] == "Formyard <forms@example.org>"
    assert message["To"] == "team@example.org"
    assert message["Reply-To"] == "ann@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    text = mail.text()
    for label, value in [
        ("Your name", "Ann <b>Lee</b>"),
        ("Email", "ann@example.com"),
        ("Message", "Hello,\nsecond line"),
        ("Size", "M"),
        ("Work email", "(no answer)"),
    ]:
        assert f"{label}\n{value}\n" in text
    assert "More" not in text  # a section heading is not a question
    [delivery] = [d for d in all_deliveries(mail_app) if d.payload["to"] == "team@example.org"]
    link = f"http://127.0.0.1:5000/forms/{form_id}/submissions/{delivery.submission_id}"
    assert f"See it in Formyard: {link}" in text
    html = mail.html()
    assert '<th scope="row" ' in html and ">Your name</th>" in html
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in html  # a respondent's markup stays text
    assert "<b>Lee</b>" not in html


def test_message_id_carries_the_delivery_id_so_a_resend_is_recognisable(mail_app, smtp_server):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    set_recipients(mail_app, form_id, "team@example.org")
    submit_answers(mail_app, form_id, ANSWERS)
    run_worker(mail_app)

    [delivery] = all_deliveries(mail_app, event="notification")
    message = smtp_server.one_to("team@example.org").message
    assert message["Message-ID"] == f"<{delivery.public_id}@example.org>"
    assert message["X-Formyard-Delivery"] == delivery.public_id
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1


@pytest.mark.parametrize(
    ("answers", "reply_to"),
    [
        (
            {"name": "A", "work_email": "work@example.com", "email": "home@example.com"},
            "work@example.com",
        ),
        ({"name": "A", "work_email": "", "email": "home@example.com"}, "home@example.com"),
        ({"name": "A"}, None),
        # A posted _replyto counts on a built form only when no email question was answered.
        ({"name": "A", "_replyto": "posted@example.com"}, "posted@example.com"),
    ],
)
def test_reply_to_is_the_first_answered_email_question(mail_app, smtp_server, answers, reply_to):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    set_recipients(mail_app, form_id, "team@example.org")
    submit_answers(mail_app, form_id, answers)
    run_worker(mail_app)
    assert smtp_server.one_to("team@example.org").message["Reply-To"] == reply_to


@pytest.mark.parametrize(
    ("posted", "reply_to"),
    [
        ({"email": "ann@example.com", "note": "hi"}, "ann@example.com"),
        ({"_replyto": "bob@example.com", "email": "ann@example.com"}, "bob@example.com"),
        ({"note": "hi"}, None),
    ],
)
def test_endpoint_forms_reply_to_replyto_or_email(mail_app, smtp_server, client, posted, reply_to):
    form_id = make_form(mail_app, slug="site", kind="endpoint").id
    set_recipients(mail_app, form_id, "team@example.org")
    assert client.post("/f/site", data=posted).status_code in {302, 303}
    run_worker(mail_app)
    mail = smtp_server.one_to("team@example.org")
    assert mail.message["Reply-To"] == reply_to
    # The address is an answer too, listed with the others.
    assert ("_replyto" in mail.text()) == ("_replyto" in posted)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Website enquiry", "Website enquiry"),
        ("Hi\r\nBcc: victim@example.com", "Hi Bcc: victim@example.com"),
        ("", "New response to Site contact"),
    ],
)
def test_posted_subject_becomes_the_subject_on_one_line(
    mail_app, smtp_server, client, subject, expected
):
    form_id = make_form(mail_app, slug="site", kind="endpoint", title="Site contact").id
    set_recipients(mail_app, form_id, "team@example.org")
    client.post("/f/site", data={"_subject": subject, "message": "hello"})
    run_worker(mail_app)
    mail = smtp_server.one_to("team@example.org")
    assert mail.message["Subject"] == expected
    assert mail.rcpt_tos == ["team@example.org"]
    assert "Bcc" not in mail.message


def test_autoresponder_replies_to_the_respondent_with_the_editors_text(mail_app, smtp_server):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    set_recipients(
        mail_app,
        form_id,
        "",
        enabled=True,
        subject="Thanks for writing",
        message="**Thank you.** We answer within a day.",
        include_answers=True,
    )
    submit_answers(mail_app, form_id, ANSWERS)
    assert run_worker(mail_app) == 1

    mail = smtp_server.one_to("ann@example.com")
    assert mail.message["Subject"] == "Thanks for writing"
    assert mail.message["Auto-Submitted"] == "auto-replied"
    assert mail.message["Reply-To"] is None
    assert "**Thank you.** We answer within a day." in mail.text()
    assert "Your name\nAnn <b>Lee</b>" in mail.text()
    assert "<strong>Thank you.</strong>" in mail.html()


def test_autoresponder_without_answers_and_without_an_address_to_reply_to(mail_app, smtp_server):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    set_recipients(mail_app, form_id, "", enabled=True, subject="Thanks", message="Got it.")
    submit_answers(mail_app, form_id, ANSWERS)
    submit_answers(mail_app, form_id, {"name": "No address"})
    run_worker(mail_app)

    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["ann@example.com"]
    assert mail.text().strip() == "Got it."
    assert "Your name" not in mail.text()


def test_spam_sends_nothing(mail_app, smtp_server, client):
    form_id = make_form(mail_app, slug="site", kind="endpoint").id
    set_recipients(mail_app, form_id, "team@example.org")
    client.post("/f/site", data={"message": "buy now", "_gotcha": "bot"})
    assert all_deliveries(mail_app) == []
    assert run_worker(mail_app) == 0
    assert smtp_server.messages == []


def test_a_form_without_email_settings_sends_no_email(mail_app, smtp_server):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    submit_answers(mail_app, form_id, ANSWERS)
    assert all_deliveries(mail_app) == []


# --- the settings page -------------------------------------------------------------------------


def test_editor_saves_recipients_and_the_reply(mail_app, client, auth, owner):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    auth.login()
    page = client.get(f"/forms/{form_id}/notifications")
    assert page.status_code == 200
    response = auth.post(
        f"/forms/{form_id}/notifications",
        {
            "recipients": "a@example.org, b@example.org\nA@example.org",
            "autoresponder_enabled": "y",
            "autoresponder_subject": "Thanks",
            "autoresponder_message": "We got it.",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/forms/{form_id}/notifications"
    page = client.get(f"/forms/{form_id}/notifications").get_data(as_text=True)
    assert "a@example.org\nb@example.org</textarea>" in page
    assert "Email settings saved." in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"recipients": "team@example.org, nope"}, "&#34;nope&#34; is not an email address."),
        ({"recipients": "\n".join(f"p{i}@example.org" for i in range(11))}, "at most 10"),
        ({"autoresponder_enabled": "y", "autoresponder_message": "Hi"}, "Write the subject"),
        ({"autoresponder_enabled": "y", "autoresponder_subject": "Hi"}, "Write the reply"),
    ],
)
def test_bad_settings_are_refused_with_422(mail_app, auth, owner, data, message):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    auth.login()
    response = auth.post(f"/forms/{form_id}/notifications", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("editor", 200)])
def test_only_editors_see_the_email_settings(mail_app, signed_in, role, status):
    client = signed_in(role)
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    assert client.get(f"/forms/{form_id}/notifications").status_code == status
    assert client.get("/forms/999/notifications").status_code in {403, 404}
