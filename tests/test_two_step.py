"""Two-step verification: the authenticator app (TOTP), recovery codes, the policy, sessions
ending when a second factor changes, and confirming it is you before dangerous actions.

Codes are real RFC 6238 codes computed with pyotp; the server's TOTP clock is frozen in the
middle of a time-step, so a test never straddles the moment a code changes.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from app.auth.signing_in import PENDING_KEY
from app.auth.signing_in import PROVED_AT_KEY
from app.extensions import db
from app.models import RecoveryCode
from app.models import Role
from app.models import User
from app.services.accounts import secret_box
from app.services.accounts import tokens
from app.services.accounts import two_step
from app.services.accounts import two_step_policy
from app.services.accounts import users
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.auth_helpers import AuthActions
from tests.auth_helpers import csrf_token_from
from tests.auth_helpers import make_user

SECRET_RE = re.compile(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>')
RECOVERY_RE = re.compile(r"<li><code>([a-z0-9-]{19})</code></li>")
TOKEN_RE = re.compile(r'<code class="secret"[^>]*>(fy_[^<]+)</code>')


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    """The clock two-step codes are checked against, at the middle of a time-step."""
    step = int(time.time() // two_step.STEP_SECONDS)
    frozen = FrozenClock((step + 0.5) * two_step.STEP_SECONDS)
    monkeypatch.setattr(two_step, "time", frozen)
    return frozen


def code_for(secret: str, clock: FrozenClock, steps_later: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now + steps_later * two_step.STEP_SECONDS)


def post(client, path: str, data: dict | None = None, page: str | None = None):
    """Post like a browser: the CSRF token comes from a page this client can open."""
    token_page = client.get(page or "/login")
    return client.post(path, data={"csrf_token": csrf_token_from(token_page), **(data or {})})


def enrol(client, clock: FrozenClock) -> tuple[str, list[str]]:
    """Set up the authenticator app through the pages; return its secret and recovery codes.
    The first code is of the step before, so the current step's code still signs in after."""
    page = client.get("/account/two-step/authenticator").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    response = post(
        client,
        "/account/two-step/authenticator",
        {"code": code_for(secret, clock, -1)},
        page="/account/two-step/authenticator",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return secret, RECOVERY_RE.findall(response.get_data(as_text=True))


def sign_in_with_password(app, email: str = OWNER_EMAIL, remember: bool = False):
    client = app.test_client()
    response = AuthActions(client).login(email, remember=remember)
    return client, response


def second_step(client, data: dict):
    return post(client, "/login/two-step", data, page="/login/two-step")


def stored_user(app, email: str = OWNER_EMAIL) -> User:
    with app.app_context():
        user = users.find_user_by_email(email)
        db.session.expunge(user)
        return user


@pytest.fixture
def enrolled(app, signed_in, clock):
    """The owner with an authenticator app: (secret, recovery codes)."""
    return enrol(signed_in(Role.OWNER), clock)


# --- setting up the app ----------------------------------------------------------------------


def test_setup_shows_a_qr_code_made_here_and_the_secret_as_text(app, signed_in, clock):
    client = signed_in(Role.OWNER)
    response = client.get("/account/two-step/authenticator")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<svg role="img" viewBox=' in page
    assert "QR code for your authenticator app" in page
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    assert len(secret) == 32
    # Reloading keeps the secret already scanned; no third party sees it.
    assert secret in client.get("/account/two-step/authenticator").get_data(as_text=True).replace(
        " ", ""
    )
    assert "https://" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_setup_refuses_a_wrong_code_then_takes_the_right_one(app, signed_in, clock):
    client = signed_in(Role.OWNER)
    page = client.get("/account/two-step/authenticator").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    right = code_for(secret, clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    refused = post(client, "/account/two-step/authenticator", {"code": wrong}, page="/account")
    assert refused.status_code == 422
    assert "That code is not right" in refused.get_data(as_text=True)
    assert stored_user(app).totp_secret_encrypted is None

    accepted = post(client, "/account/two-step/authenticator", {"code": right}, page="/account")
    text = accepted.get_data(as_text=True)
    assert accepted.status_code == 200
    assert "Two-step verification is on" in text
    assert len(set(RECOVERY_RE.findall(text))) == 10
    assert accepted.headers["Cache-Control"] == "no-store"
    account = client.get("/account").get_data(as_text=True)
    assert "10 recovery codes left" in account


def test_the_stored_secret_is_encrypted_not_plain(app, enrolled):
    secret, _codes = enrolled
    user = stored_user(app)
    assert secret not in user.totp_secret_encrypted
    with app.app_context():
        assert secret_box.decrypt(user.totp_secret_encrypted) == secret
        raw = db.session.execute(select(User.__table__)).mappings().one()
    assert secret not in str(dict(raw))


def test_a_stored_secret_does_not_open_with_another_secret_key(app, enrolled):
    user = stored_user(app)
    with app.app_context():
        app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-9876543210"
        with pytest.raises(secret_box.SecretUnreadable):
            secret_box.decrypt(user.totp_secret_encrypted)


# --- signing in ------------------------------------------------------------------------------


def test_sign_in_asks_for_a_code_and_halfway_opens_nothing(app, enrolled, clock):
    secret, _codes = enrolled
    client, response = sign_in_with_password(app)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/two-step"
    page = client.get("/login/two-step").get_data(as_text=True)
    assert "Code from your authenticator app" in page
    assert "Use a recovery code" in page
    # Halfway: the password was right, but no page opens.
    for path in ("/account", "/forms", "/users"):
        blocked = client.get(path)
        assert blocked.status_code == 302
        assert blocked.headers["Location"].startswith("/login")

    signed = second_step(client, {"method": "authenticator", "code": code_for(secret, clock)})
    assert signed.status_code == 303
    assert client.get("/account").status_code == 200
    with client.session_transaction() as session:
        assert PENDING_KEY not in session


def test_sign_in_goes_on_to_the_page_asked_for(app, enrolled, clock):
    secret, _codes = enrolled
    client = app.test_client()
    login_page = client.get("/login?next=/users")
    response = client.post(
        "/login?next=/users",
        data={
            "csrf_token": csrf_token_from(login_page),
            "email": OWNER_EMAIL,
            "password": PASSWORD,
        },
    )
    assert response.headers["Location"] == "/login/two-step"
    signed = second_step(client, {"method": "authenticator", "code": code_for(secret, clock)})
    assert signed.headers["Location"] == "/users"


def test_a_code_signs_in_once(app, enrolled, clock):
    secret, _codes = enrolled
    code = code_for(secret, clock)
    first, _ = sign_in_with_password(app)
    assert second_step(first, {"method": "authenticator", "code": code}).status_code == 303

    second, _ = sign_in_with_password(app)
    replayed = second_step(second, {"method": "authenticator", "code": code})
    assert replayed.status_code == 422
    assert "or was used already" in replayed.get_data(as_text=True)
    assert second.get("/account").status_code == 302
    # An older code than the last one accepted is refused too; the next one works.
    assert (
        second_step(second, {"method": "authenticator", "code": code_for(secret, clock, -1)})
    ).status_code == 422
    later = code_for(secret, clock, 1)
    assert second_step(second, {"method": "authenticator", "code": later}).status_code == 303


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_malformed_codes_are_refused_with_the_form_again(app, enrolled, clock, code):
    client, _ = sign_in_with_password(app)
    response = second_step(client, {"method": "authenticator", "code": code})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'name="code"' in page
    assert "Enter the code from your app." in page or "That code is not right" in page


def test_wrong_codes_are_throttled_like_passwords(app, enrolled, clock):
    secret, _codes = enrolled
    client, _ = sign_in_with_password(app)
    right = code_for(secret, clock)
    wrong = f"{(int(right) + 7) % 1_000_000:06d}"
    for _ in range(5):
        assert second_step(client, {"method": "authenticator", "code": wrong}).status_code == 422
    throttled = second_step(client, {"method": "authenticator", "code": right})
    assert throttled.status_code == 429
    assert "Too many failed sign-in attempts" in throttled.get_data(as_text=True)
    assert int(throttled.headers["Retry-After"]) > 0
    assert client.get("/account").status_code == 302


def test_the_second_step_expires(app, enrolled, clock):
    client, _ = sign_in_with_password(app)
    with client.session_transaction() as session:
        session[PENDING_KEY] = {**session[PENDING_KEY], "until": int(time.time()) - 1}
    response = client.get("/login/two-step")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "the time for the second step ran out" in client.get("/login").get_data(as_text=True)


def test_remember_me_is_set_only_after_the_second_step(app, enrolled, clock):
    secret, _codes = enrolled
    client, response = sign_in_with_password(app, remember=True)
    assert "formyard_remember" not in response.headers.get("Set-Cookie", "")
    signed = second_step(client, {"method": "authenticator", "code": code_for(secret, clock)})
    assert "formyard_remember=" in " ".join(signed.headers.getlist("Set-Cookie"))


def test_signing_in_without_two_step_is_unchanged(app, owner):
    client, response = sign_in_with_password(app)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert client.get("/account").status_code == 200


# --- recovery codes --------------------------------------------------------------------------


def test_a_recovery_code_signs_in_once_and_the_count_drops(app, enrolled):
    _secret, codes = enrolled
    client, _ = sign_in_with_password(app)
    signed = second_step(client, {"method": "recovery_code", "recovery_code": codes[3].upper()})
    assert signed.status_code == 303
    assert "9 recovery codes left" in client.get("/").get_data(as_text=True)
    assert "9 recovery codes left" in client.get("/account").get_data(as_text=True)

    again, _ = sign_in_with_password(app)
    reused = second_step(again, {"method": "recovery_code", "recovery_code": codes[3]})
    assert reused.status_code == 422
    assert "That recovery code is not right, or was used already." in reused.get_data(as_text=True)
    with app.app_context():
        used = db.session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None)))
        assert len(list(used)) == 1


def test_recovery_codes_are_stored_hashed(app, enrolled):
    _secret, codes = enrolled
    with app.app_context():
        stored = [row.code_hash for row in db.session.scalars(select(RecoveryCode))]
    assert len(stored) == 10
    assert not set(codes) & set(stored)
    assert all(len(value) == 64 for value in stored)


def test_new_recovery_codes_replace_the_old_ones(app, signed_in, clock):
    client = signed_in(Role.OWNER)
    _secret, old_codes = enrol(client, clock)
    response = post(client, "/account/two-step/recovery-codes", page="/account/two-step")
    assert response.status_code == 200
    new_codes = RECOVERY_RE.findall(response.get_data(as_text=True))
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)

    stranger, _ = sign_in_with_password(app)
    old = second_step(stranger, {"method": "recovery_code", "recovery_code": old_codes[0]})
    assert old.status_code == 422
    new = second_step(stranger, {"method": "recovery_code", "recovery_code": new_codes[0]})
    assert new.status_code == 303


# --- sessions end when a second factor changes --------------------------------------------------


@pytest.mark.parametrize("change", ["enable", "regenerate", "remove"])
def test_old_sessions_and_remember_me_cookies_end_when_the_second_factor_changes(
    app, signed_in, clock, change
):
    changer = signed_in(Role.OWNER)
    if change != "enable":
        enrol(changer, clock)
        old, _ = sign_in_with_password(app, remember=True)
        secret = stored_user(app).totp_secret_encrypted
        with app.app_context():
            plain = secret_box.decrypt(secret)
        second_step(old, {"method": "authenticator", "code": code_for(plain, clock)})
    else:
        old, _ = sign_in_with_password(app, remember=True)
    assert old.get("/account").status_code == 200
    remember = old.get_cookie("formyard_remember")
    assert remember is not None
    remembered = app.test_client()
    remembered.set_cookie("formyard_remember", remember.value)
    assert remembered.get("/account").status_code == 200

    if change == "enable":
        enrol(changer, clock)
    elif change == "regenerate":
        post(changer, "/account/two-step/recovery-codes", page="/account/two-step")
    else:
        removed = post(changer, "/account/two-step/authenticator/remove", page="/account/two-step")
        assert removed.status_code == 303
        assert stored_user(app).totp_secret_encrypted is None

    assert old.get("/account").headers["Location"].startswith("/login")
    fresh_client = app.test_client()
    fresh_client.set_cookie("formyard_remember", remember.value)
    assert fresh_client.get("/account").headers["Location"].startswith("/login")
    # The session that made the change goes on.
    assert changer.get("/account").status_code == 200


# --- the policy --------------------------------------------------------------------------------


def test_the_policy_leads_people_to_set_up_two_step_first(app, signed_in, clock):
    owner_client = signed_in(Role.OWNER)
    saved = post(
        owner_client, "/users/two-step-policy", {"policy": "owners_editors"}, page="/users"
    )
    assert saved.status_code == 303
    # The owner is covered too, and is the first to be led to set it up.
    assert owner_client.get("/users").headers["Location"] == "/account/two-step/authenticator"
    setup_page = owner_client.get("/account/two-step/authenticator").get_data(as_text=True)
    assert "Two-step verification required for: owners and editors." in setup_page
    assert "Set it up to go on." in setup_page

    editor = signed_in(Role.EDITOR)
    led = editor.get("/forms")
    assert led.status_code == 302
    assert led.headers["Location"] == "/account/two-step/authenticator"
    page = editor.get("/account/two-step/authenticator").get_data(as_text=True)
    assert "required for your role" in page
    enrol(editor, clock)
    assert editor.get("/forms").status_code == 200

    viewer = signed_in(Role.VIEWER)  # the policy does not cover viewers
    assert viewer.get("/forms").status_code == 200


def test_two_step_cannot_be_turned_off_while_the_policy_requires_it(app, signed_in, clock):
    client = signed_in(Role.OWNER)
    enrol(client, clock)
    with app.app_context():
        two_step_policy.set_policy("everyone")
    refused = post(client, "/account/two-step/authenticator/remove", page="/account/two-step")
    assert refused.status_code == 303
    assert "cannot be turned off" in client.get("/account/two-step").get_data(as_text=True)
    assert stored_user(app).totp_secret_encrypted is not None


def test_an_unknown_policy_is_refused_with_the_form_again(app, signed_in):
    client = signed_in(Role.OWNER)
    response = post(client, "/users/two-step-policy", {"policy": "martians"}, page="/users")
    assert response.status_code == 422
    assert "Choose who must use two-step verification." in response.get_data(as_text=True)


def test_an_owner_resets_someone_elses_two_step(app, signed_in, clock):
    editor = signed_in(Role.EDITOR)
    enrol(editor, clock)
    editor_id = stored_user(app, "editor@example.com").id
    owner_client = signed_in(Role.OWNER)
    response = post(owner_client, f"/users/{editor_id}/reset-two-step", page="/users")
    assert response.status_code == 303
    assert stored_user(app, "editor@example.com").totp_secret_encrypted is None
    assert editor.get("/account").headers["Location"].startswith("/login")


# --- fresh sign-in before dangerous actions -------------------------------------------------


def make_stale(client) -> None:
    with client.session_transaction() as session:
        session[PROVED_AT_KEY] = int(time.time()) - 11 * 60


def confirm_target(response) -> str:
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/confirm-access"
    return parse_qs(location.query)["next"][0]


def test_a_new_token_asks_for_the_password_after_the_window_only(app, signed_in):
    client = signed_in(Role.OWNER)
    data = {"name": "CRM sync", "scope": "read"}
    within = post(client, "/account/tokens", data, page="/account")
    assert within.status_code == 201
    assert TOKEN_RE.search(within.get_data(as_text=True))

    make_stale(client)
    asked = post(client, "/account/tokens", {**data, "name": "Later"}, page="/account")
    assert confirm_target(asked) == "/account#tokens"
    confirm_url = asked.headers["Location"]
    page = client.get(confirm_url).get_data(as_text=True)
    assert "Confirm it is you" in page
    assert "Confirm it is you, then do that again." in page

    wrong = post(client, confirm_url, {"method": "password", "password": "not it"}, "/account")
    assert wrong.status_code == 422
    assert "That password is not right." in wrong.get_data(as_text=True)

    right = post(client, confirm_url, {"method": "password", "password": PASSWORD}, "/account")
    assert right.status_code == 303
    assert right.headers["Location"] == "/account#tokens"
    again = post(client, "/account/tokens", {**data, "name": "Later"}, page="/account")
    assert again.status_code == 201
    with app.app_context():
        names = [token.name for token in tokens.list_tokens(users.get_user(stored_user(app).id))]
    assert sorted(names) == ["CRM sync", "Later"]


def test_a_code_from_the_app_confirms_too(app, enrolled, clock, signed_in):
    secret, _codes = enrolled
    client, _ = sign_in_with_password(app)
    second_step(client, {"method": "authenticator", "code": code_for(secret, clock)})
    make_stale(client)
    asked = client.get("/users")
    assert asked.status_code == 200  # the list of users itself is not dangerous
    target = f"/users/{stored_user(app).id}"
    redirect = client.get(target)
    assert confirm_target(redirect) == target
    page = client.get(redirect.headers["Location"]).get_data(as_text=True)
    assert "Code from your authenticator app" in page
    confirmed = post(
        client,
        redirect.headers["Location"],
        {"method": "authenticator", "code": code_for(secret, clock, 1)},
        page="/account",
    )
    assert confirmed.headers["Location"] == target
    assert client.get(target).status_code == 200


def test_each_dangerous_action_asks_again_when_stale(app, signed_in):
    from tests.form_helpers import make_form

    client = signed_in(Role.OWNER)
    editor_id = make_user(app, "someone@example.com", Role.EDITOR)
    form = make_form(app, publish=False)
    make_stale(client)
    gets = {
        f"/users/{editor_id}": f"/users/{editor_id}",
        "/users/two-step-policy": "/users/two-step-policy",
        "/account/two-step/authenticator": "/account/two-step/authenticator",
        f"/forms/{form.id}/submissions/export?format=csv": (
            f"/forms/{form.id}/submissions/export?format=csv"
        ),
        f"/forms/{form.id}/in-progress/export?format=csv": (
            f"/forms/{form.id}/in-progress/export?format=csv"
        ),
    }
    for path, target in gets.items():
        assert confirm_target(client.get(path)) == target, path
    posts = {
        f"/users/{editor_id}/deactivate": "/users",
        f"/users/{editor_id}/reset-two-step": "/users",
        f"/forms/{form.id}/webhooks/1/secret": f"/forms/{form.id}/webhooks/1",
        "/account/two-step/recovery-codes": "/account/two-step",
        "/account/two-step/authenticator/remove": "/account/two-step",
    }
    for path, target in posts.items():
        assert confirm_target(post(client, path, page="/account")) == target, path
    assert stored_user(app, "someone@example.com").is_active_user


def test_confirming_sends_only_to_a_path_on_this_site(app, signed_in):
    client = signed_in(Role.OWNER)
    url = "/confirm-access?next=//evil.example/steal"
    response = post(client, url, {"method": "password", "password": PASSWORD}, page="/account")
    assert response.headers["Location"] == "/"


# --- the command line --------------------------------------------------------------------------


def test_cli_resets_two_step_for_someone_who_lost_everything(app, enrolled, runner):
    result = runner.invoke(args=["users", "reset-2fa", OWNER_EMAIL])
    assert result.exit_code == 0
    assert f"Two-step verification turned off for {OWNER_EMAIL}" in result.output
    user = stored_user(app)
    assert user.totp_secret_encrypted is None
    with app.app_context():
        assert db.session.scalar(select(RecoveryCode.id)) is None
    _client, response = sign_in_with_password(app)
    assert response.headers["Location"] == "/"


def test_cli_reset_refuses_an_unknown_email(app, owner, runner):
    result = runner.invoke(args=["users", "reset-2fa", "nobody@example.com"])
    assert result.exit_code == 2
    assert "no user with email 'nobody@example.com'" in result.output


def test_two_step_changes_are_in_the_audit_log(app, enrolled):
    from app.models import AuditEntry

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == OWNER_EMAIL))
        two_step.regenerate_recovery_codes(user)
        two_step_policy.set_policy("everyone")
        two_step.reset_two_step(user)
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        actions = [entry.action for entry in entries if entry.action.startswith("two_step.")]
    assert actions == [
        "two_step.enabled",
        "two_step.recovery_codes_renewed",
        "two_step.policy_changed",
        "two_step.removed",
    ]
