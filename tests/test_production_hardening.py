"""The production configuration's defences a browser meets: ``__Host-`` cookies, HSTS on
static files too, a CSP without ``<base>``, and a fresh install's /setup that asks for the
setup code printed in the log. On SQLite and PostgreSQL (the ``production_app`` fixture)."""

from __future__ import annotations

import uuid

import pytest

from app.models import Role
from app.services.accounts.setup_code import setup_code
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.auth_helpers import csrf_token_from
from tests.auth_helpers import fetch_user
from tests.auth_helpers import make_user
from tests.delivery_helpers import free_port
from tests.process_helpers import VENV_BIN
from tests.process_helpers import loopback_gunicorn
from tests.process_helpers import program_environment
from tests.process_helpers import start_program
from tests.process_helpers import stop_program
from tests.process_helpers import wait_until
from tests.production_helpers import STRONG_KEY
from tests.production_helpers import https_client
from tests.production_helpers import production_app_fixture  # noqa: F401


def set_cookies(response) -> dict[str, str]:
    """Each cookie the response sets, by name: its whole Set-Cookie line."""
    lines = response.headers.getlist("Set-Cookie")
    return {line.split("=", 1)[0]: line for line in lines}


def sign_in(client, remember: bool = True):
    token = csrf_token_from(client.get("/login"))
    data = {"csrf_token": token, "email": OWNER_EMAIL, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


# --- cookie names ---------------------------------------------------------------------------


def test_session_and_remember_me_cookies_are_host_prefixed_in_production(production_app):
    make_user(production_app, OWNER_EMAIL, Role.OWNER)
    client = https_client(production_app)
    response = sign_in(client)
    assert response.status_code == 303
    cookies = set_cookies(response)
    assert set(cookies) >= {"__Host-formyard_session", "__Host-formyard_remember"}
    assert not {"formyard_session", "formyard_remember"} & set(cookies)
    for name in ("__Host-formyard_session", "__Host-formyard_remember"):
        attributes = [part.strip().lower() for part in cookies[name].split(";")[1:]]
        assert "secure" in attributes
        assert "path=/" in attributes
        assert not any(part.startswith("domain=") for part in attributes)
    # The browser sends them back, and they sign the owner in.
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "Sign out" in dashboard.get_data(as_text=True)


def test_the_remember_me_cookie_alone_signs_the_owner_back_in(production_app):
    make_user(production_app, OWNER_EMAIL, Role.OWNER)
    client = https_client(production_app)
    sign_in(client)
    remember = client.get_cookie("__Host-formyard_remember", domain="127.0.0.1")
    fresh = https_client(production_app)
    fresh.set_cookie("__Host-formyard_remember", remember.value, domain="127.0.0.1")
    assert "Sign out" in fresh.get("/").get_data(as_text=True)


def test_development_keeps_plain_cookie_names(app, client, owner):
    response = sign_in(client)
    assert set(set_cookies(response)) >= {"formyard_session", "formyard_remember"}


# --- HSTS and CSP -----------------------------------------------------------------------------


def test_static_files_carry_hsts_in_production(production_app):
    response = https_client(production_app).get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_carry_no_hsts_outside_production(app, client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("path", ["/login", "/f/contact", "/healthz"])
def test_the_policy_allows_no_base_element(app, client, owner, path):
    from tests.form_helpers import make_form
    from tests.public_helpers import CONTACT_FIELDS

    make_form(app, CONTACT_FIELDS)
    csp = client.get(path).headers["Content-Security-Policy"]
    directives = [directive.strip() for directive in csp.split(";")]
    assert "base-uri 'none'" in directives


# --- the setup code -----------------------------------------------------------------------------


def post_setup(client, code: str | None):
    token = csrf_token_from(client.get("/setup"))
    data = {
        "csrf_token": token,
        "display_name": "Ada",
        "email": OWNER_EMAIL,
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    if code is not None:
        data["setup_code"] = code
    return client.post("/setup", data=data)


def test_a_fresh_production_install_asks_for_the_setup_code(production_app):
    client = https_client(production_app)
    first = client.get("/", follow_redirects=True)
    page = first.get_data(as_text=True)
    assert first.request.path == "/setup"
    assert "Setup code" in page
    assert "Printed in the server&#39;s log" in page or "Printed in the server's log" in page


@pytest.mark.parametrize("code", [None, "", "AAAA-BBBB-CCCC"], ids=["missing", "empty", "wrong"])
def test_setup_without_the_right_code_makes_no_owner(production_app, code):
    response = post_setup(https_client(production_app), code)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "setup code" in page.lower()
    assert fetch_user(production_app, OWNER_EMAIL) is None


def test_setup_with_the_code_from_the_log_makes_the_owner(production_app):
    code = setup_code(STRONG_KEY)
    typed = code.replace("-", " ").lower()  # as someone might copy it
    response = post_setup(https_client(production_app), typed)
    assert response.status_code == 303
    owner = fetch_user(production_app, OWNER_EMAIL)
    assert owner is not None
    assert owner.role == Role.OWNER


def test_setup_is_gone_once_the_owner_was_made_with_the_cli(production_app):
    result = production_app.test_cli_runner().invoke(
        args=["users", "create", "--email", OWNER_EMAIL, "--role", "owner"],
        env={"FORMYARD_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    client = https_client(production_app)
    assert client.get("/setup").status_code == 404
    assert post_setup_without_page(client).status_code in {400, 404}


def post_setup_without_page(client):
    return client.post("/setup", data={"setup_code": setup_code(STRONG_KEY)})


def test_development_setup_asks_for_no_code(app, client):
    page = client.get("/setup").get_data(as_text=True)
    assert "Setup code" not in page
    assert "Create owner account" in page


def test_gunicorn_prints_the_setup_code_once_at_start(tmp_path):
    """The repository's gunicorn.conf.py on a fresh install: one line with the code, from the
    master, however many workers boot."""
    port = free_port()
    key = uuid.uuid4().hex + uuid.uuid4().hex
    env = program_environment(
        {
            **loopback_gunicorn(port),
            "APP_ENV": "production",
            "SECRET_KEY": key,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
            "BASE_URL": "https://forms.example.org",
            "WEB_CONCURRENCY": "2",
            "PORT": str(port),
        }
    )
    env.pop("DEBUG", None)
    env.pop("REDIS_URL", None)
    program = start_program([str(VENV_BIN / "gunicorn"), "wsgi:app"], env, tmp_path / "log")
    try:
        wait_until(
            lambda: program.output().count("Booting worker") >= 2,
            30,
            "two workers",
            program.output,
        )
    finally:
        stop_program(program)
    output = program.output()
    lines = [line for line in output.splitlines() if "setup code" in line]
    assert len(lines) == 1, output
    assert (
        f"open https://forms.example.org/setup and enter the setup code {setup_code(key)}"
        in (lines[0])
    )
