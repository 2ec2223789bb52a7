"""A person's own settings and password."""

import pytest

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.auth_helpers import AuthActions
from tests.auth_helpers import fetch_user

NEW_PASSWORD = "a completely new passphrase"


def test_profile_saves_name_and_time_zone(app, auth, owner):
    auth.login()
    response = auth.post("/account", {"display_name": "Olive O.", "timezone": "Europe/Paris"})
    assert response.status_code == 303
    user = fetch_user(app, OWNER_EMAIL)
    assert (user.display_name, user.timezone) == ("Olive O.", "Europe/Paris")


def test_profile_rejects_unknown_time_zone(auth, owner):
    auth.login()
    response = auth.post("/account", {"display_name": "Olive", "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong current password", NEW_PASSWORD, NEW_PASSWORD, "current password is not right"),
        (PASSWORD, "tooshort", "tooshort", "at least 10 characters"),
        (PASSWORD, "1234567890", "1234567890", "too common"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "The passwords differ."),
    ],
)
def test_password_change_rejects_bad_input(app, auth, owner, current, new, confirm, message):
    auth.login()
    response = auth.post(
        "/account/password", {"current_password": current, "new_password": new, "confirm": confirm}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert AuthActions(app.test_client()).login().status_code == 303


@pytest.mark.parametrize(
    "passphrase",
    [
        "ünïcödé pässphräse with ümläuts",
        "日本語のパスフレーズはとても長くて安全です",
        "x" * 64 + " a passphrase of more than one hundred and twenty eight characters " + "y" * 64,
    ],
)
def test_long_and_unicode_passphrases_work(app, auth, owner, passphrase):
    auth.login()
    response = auth.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": passphrase, "confirm": passphrase},
    )
    assert response.status_code == 303
    assert AuthActions(app.test_client()).login(OWNER_EMAIL, passphrase).status_code == 303
    assert AuthActions(app.test_client()).login(OWNER_EMAIL, PASSWORD).status_code == 422
