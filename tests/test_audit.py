"""The audit log: an entry for each recorded action, with an actor label that outlives the user,
no answers in it, written with the change or not at all; the owners' page and its exports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.models import Role
from app.models import Submission
from app.models import User
from app.services import audit
from app.services import forms
from app.services.accounts import account_links
from app.services.accounts import tokens
from app.services.accounts import users
from app.services.delivery import notifications
from app.services.delivery import webhooks
from app.services.delivery.worker import Worker
from app.services.inbox import triage
from tests.api_helpers import bearer
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import AuthActions
from tests.auth_helpers import csrf_token_from
from tests.auth_helpers import make_user
from tests.form_helpers import change_settings
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form

SECRET_ANSWER = "Zebra-Secret-7731"
OWNER_LABEL = f"Owner <{OWNER_EMAIL}>"


def entries(app, action: str | None = None) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def as_user(app, email: str):
    """``acting_as`` the stored user with this email (the services outside a request)."""
    user = users.find_user_by_email(email)
    return audit.acting_as(audit.user_actor(user))


def test_sign_ins_and_failed_sign_ins_are_recorded_with_address_and_request_id(app, owner):
    client = app.test_client()
    AuthActions(client).login(OWNER_EMAIL, "not the password")
    AuthActions(client).login("nobody@example.com", "whatever it is")
    AuthActions(client).login(OWNER_EMAIL)

    failed = entries(app, "signin.failed")
    assert [(e.actor_label, e.outcome.value) for e in failed] == [
        (OWNER_LABEL, "refused"),
        ("nobody@example.com", "refused"),
    ]
    (succeeded,) = entries(app, "signin.succeeded")
    assert succeeded.actor_label == OWNER_LABEL
    assert succeeded.actor_kind.value == "user"
    assert succeeded.address == "127.0.0.1"
    assert succeeded.request_id and len(succeeded.request_id) >= 16


def test_users_and_roles_are_recorded_and_the_label_survives_the_actors_deletion(
    app, owner, signed_in
):
    second = make_user(app, "second@example.com", Role.OWNER)
    editor = make_user(app, "ed@example.com", Role.EDITOR)
    client = signed_in(Role.OWNER, email="second@example.com")
    page = client.get(f"/users/{editor}")
    changed = client.post(
        f"/users/{editor}", data={"csrf_token": csrf_token_from(page), "role": "viewer"}
    )
    assert changed.status_code == 303
    client.post(f"/users/{editor}/deactivate", data={"csrf_token": csrf_token_from(page)})
    with app.app_context():
        db.session.delete(db.session.get(User, second))
        db.session.commit()

    (created,) = [e for e in entries(app, "user.created") if e.target_id == str(editor)]
    assert created.details == {"role": "editor"}
    (role_changed,) = entries(app, "user.role_changed")
    assert role_changed.actor_label == "Second <second@example.com>"
    assert role_changed.actor_user_id is None  # the user is gone, the label stays
    assert role_changed.target_label == "Ed <ed@example.com>"
    assert role_changed.details == {"from": "editor", "to": "viewer"}
    (deactivated,) = entries(app, "user.deactivated")
    assert deactivated.target_id == str(editor)


def test_invitations_are_recorded(app, owner):
    with app.app_context(), as_user(app, OWNER_EMAIL):
        inviter = db.session.get(User, owner)
        invited = account_links.invite_user("new@example.com", "New", "viewer", inviter)
        account_links.resend_invitation(invited, inviter)
    (entry,) = entries(app, "user.invited")
    assert (entry.actor_label, entry.target_label) == (OWNER_LABEL, "New <new@example.com>")
    assert entry.details == {"role": "viewer"}
    assert [e.target_label for e in entries(app, "user.invited_again")] == ["New <new@example.com>"]


def test_a_refused_change_writes_no_entry(app, owner, signed_in):
    client = signed_in(Role.OWNER)
    page = client.get(f"/users/{owner}")
    refused = client.post(
        f"/users/{owner}", data={"csrf_token": csrf_token_from(page), "role": "editor"}
    )
    assert refused.status_code in (403, 422)
    assert "last active owner" in refused.get_data(as_text=True)
    assert entries(app, "user.role_changed") == []
    with app.app_context(), as_user(app, OWNER_EMAIL):
        form = forms.create_form(None, title="Refused", slug="refused")
        with pytest.raises(Exception):
            forms.update_settings(form, **(forms.current_settings(form) | {"resume_days": 0}))
    assert entries(app, "form.settings_changed") == []


def test_tokens_are_recorded_and_a_token_acts_as_itself(app, owner):
    with app.app_context(), as_user(app, OWNER_EMAIL):
        owner_user = db.session.get(User, owner)
        token, value = tokens.create_token(owner_user, "Deploy script", "write")
        prefix = token.prefix
    form = make_form(app, [{"key": "name", "type": "short_text", "label": "Name"}])
    client = app.test_client()
    assert client.delete(f"/api/v1/forms/{form.id}", headers=bearer(value)).status_code == 204
    with app.app_context(), as_user(app, OWNER_EMAIL):
        tokens.revoke_token(tokens.get_token_for(db.session.get(User, owner), token.id))

    (created,) = entries(app, "token.created")
    assert (created.actor_label, created.target_label) == (OWNER_LABEL, f"Deploy script ({prefix})")
    (deleted,) = entries(app, "form.deleted")
    assert deleted.actor_kind.value == "token"
    assert deleted.actor_label == f"{OWNER_LABEL} with token Deploy script ({prefix})"
    assert deleted.form_id == form.id
    assert [e.target_label for e in entries(app, "token.revoked")] == [f"Deploy script ({prefix})"]


def test_forms_settings_notifications_webhooks_exports_and_bulk_are_recorded(app, owner, signed_in):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    slug = make_endpoint(app, slug="site")
    client = app.test_client()
    posted = client.post(
        f"/f/{slug}", data={"message": SECRET_ANSWER}, headers={"Accept": "application/json"}
    )
    assert posted.status_code in (200, 201)
    with app.app_context(), as_user(app, OWNER_EMAIL):
        form = forms.get_form_by_slug(slug)
        forms.update_settings(form, **(forms.current_settings(form) | {"status": "closed"}))
        forms.trash_form(form)
        forms.restore_form(form)
        notifications.update_settings(
            form,
            recipients="team@example.com",
            autoresponder_enabled=False,
            autoresponder_subject="",
            autoresponder_message="",
            autoresponder_include_answers=False,
        )
        endpoint, _secret = webhooks.add_endpoint(form, None, "http://127.0.0.1:9/hook", "generic")
        webhooks.rotate_secret(endpoint)
        webhooks.delete_endpoint(endpoint)
    owner_client = signed_in(Role.OWNER)
    exported = owner_client.get(f"/forms/{fetch_id(app, slug)}/submissions/export?format=jsonl")
    assert SECRET_ANSWER in exported.get_data(as_text=True)
    with app.app_context(), as_user(app, OWNER_EMAIL):
        form = forms.get_form_by_slug(slug)
        ids = list(db.session.scalars(select(Submission.id).where(Submission.form_id == form.id)))
        assert triage.apply_bulk(form, "star", [ids]) == 1

    actions = [e.action for e in entries(app) if e.form_id == fetch_id(app, slug)]
    for expected in (
        "form.published",
        "form.settings_changed",
        "form.closed",
        "form.deleted",
        "form.restored",
        "notifications.changed",
        "webhook.created",
        "webhook.secret_rotated",
        "webhook.deleted",
        "export.submissions",
        "inbox.bulk_star",
    ):
        assert expected in actions, expected
    (closed,) = entries(app, "form.closed")
    assert closed.details == {"from": "open", "to": "closed"}
    assert closed.actor_label == OWNER_LABEL and closed.target_label == "Site contact"
    (exported_entry,) = entries(app, "export.submissions")
    assert exported_entry.details == {"format": "jsonl", "rows": 1}
    assert exported_entry.actor_label == OWNER_LABEL
    (bulk,) = entries(app, "inbox.bulk_star")
    assert bulk.details == {"changed": 1}
    everything = json.dumps([audit_json(e) for e in entries(app)])
    assert SECRET_ANSWER not in everything


def fetch_id(app, slug: str) -> int:
    with app.app_context():
        return forms.get_form_by_slug(slug).id


def audit_json(entry: AuditEntry) -> dict:
    return {
        "actor": entry.actor_label,
        "target": entry.target_label,
        "details": entry.details,
        "action": entry.action,
    }


def test_details_refuse_anything_but_ids_counts_and_names(app):
    with app.app_context():
        with pytest.raises(ValueError):
            audit.record("x.y", details={"text": "a" * 101})
        with pytest.raises(TypeError):
            audit.record("x.y", details={"answers": {"name": "Ann"}})


def add_entries(app, count: int, *, action: str = "test.thing", form_id: int | None = None):
    with app.app_context():
        for _ in range(count):
            entry = audit.record(action, details={"n": 1})
            entry.form_id = form_id
        db.session.commit()


def rows_of(page_html: str) -> int:
    return page_html.count("<code>")


def test_the_page_pages_newest_first_and_filters(app, owner, signed_in):
    client = signed_in(Role.OWNER)  # a sign-in entry
    add_entries(app, 55, action="form.published", form_id=7)
    add_entries(app, 3, action="user.created")
    first = client.get("/audit").get_data(as_text=True)
    assert rows_of(first) == 50
    assert first.index("<code>user.created") < first.index("<code>form.published")
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    older = client.get(next_link)
    # 8 published, and the owner made (by the system) and signed in, oldest last
    older_page = older.get_data(as_text=True)
    assert rows_of(older_page) == 10
    assert 'rel="next"' not in older_page

    only_forms = client.get("/audit?action=form.").get_data(as_text=True)
    assert rows_of(only_forms) == 50 and "<code>user.created" not in only_forms
    exact = client.get("/audit?action=user.created").get_data(as_text=True)
    assert rows_of(exact) == 4  # and the owner, made by the system
    system = client.get("/audit?actor=system").get_data(as_text=True)
    assert rows_of(system) == 50  # the added entries had no user
    mine = client.get(f"/audit?actor={owner}").get_data(as_text=True)
    assert rows_of(mine) == 1 and "signin.succeeded" in mine
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert rows_of(client.get(f"/audit?since={tomorrow}").get_data(as_text=True)) == 0
    assert "No entries match." in client.get(f"/audit?since={tomorrow}").get_data(as_text=True)
    today = datetime.now(UTC).date().isoformat()
    assert (
        rows_of(
            client.get(f"/audit?since={today}&until={today}&action=user.created").get_data(
                as_text=True
            )
        )
        == 4
    )


def test_the_form_filter_and_bad_filters(app, owner, signed_in):
    form = make_form(app, [{"key": "name", "type": "short_text", "label": "Name"}])
    client = signed_in(Role.OWNER)
    page = client.get(f"/audit?form_id={form.id}").get_data(as_text=True)
    assert rows_of(page) == 1 and "form.published" in page
    bad = client.get("/audit?since=2026-05-02&until=2026-05-01")
    assert bad.status_code == 422
    assert "Choose a day on or after the first." in bad.get_data(as_text=True)
    assert client.get("/audit?since=yesterday").status_code == 422


def test_only_owners_see_the_page_and_the_link(app, owner, signed_in):
    editor = signed_in(Role.EDITOR)
    assert editor.get("/audit").status_code == 403
    assert "Audit log" not in editor.get("/").get_data(as_text=True)
    assert 'href="/audit"' in signed_in(Role.OWNER).get("/forms").get_data(as_text=True)


def test_exports_are_formula_safe_csv_and_json_lines(app, owner, signed_in):
    client = signed_in(Role.OWNER)
    make_form(app, [{"key": "n", "type": "short_text", "label": "N"}], title="=HYPERLINK(1)")
    response = client.get("/audit/export?format=csv&action=form.published")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["target"] for row in rows] == ["'=HYPERLINK(1)"]
    assert rows[0]["action"] == "form.published"
    lines = client.get("/audit/export?format=jsonl").get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["action"] for r in records] == ["form.published", "signin.succeeded", "user.created"]
    assert records[0]["target"] == "=HYPERLINK(1)"


def test_the_worker_purges_entries_older_than_their_retention(app):
    with app.app_context():
        old = audit.record("old.thing")
        old.created_at = datetime.now(UTC) - timedelta(days=401)
        audit.record("new.thing")
        db.session.commit()
    Worker(app, poll_seconds=0).run_once()
    names = [e.action for e in entries(app)]
    assert "old.thing" not in names and "new.thing" in names
    assert "retention.run" in names
    (run,) = entries(app, "retention.run")
    assert run.actor_label == "retention" and run.actor_kind.value == "system"


def test_settings_changed_names_the_settings_never_their_values(app, owner):
    form = make_form(app, [{"key": "n", "type": "short_text", "label": "N"}])
    change_settings(app, "contact", confirmation_message=SECRET_ANSWER)
    (changed,) = entries(app, "form.settings_changed")
    assert changed.details == {"changed": ["confirmation_message"]}
    assert changed.form_id == form.id
    assert changed.actor_label == "system"
    with app.app_context():
        assert audit.current_actor() == audit.SYSTEM
