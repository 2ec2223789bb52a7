"""Security headers, CSRF, trusted hosts, and error answers as pages or JSON."""

import pytest
from flask import abort

from app.extensions import limiter
from tests.auth_helpers import AuthActions


def test_security_headers_on_admin_pages(client, owner):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_pages_have_no_inline_script_or_style(client, owner):
    page = client.get("/login").get_data(as_text=True)
    assert "<script>" not in page
    assert "style=" not in page
    assert "<style" not in page


def test_hsts_and_secure_cookies_in_production(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("SECRET_KEY", "p" * 16 + "0123456789abcdefghij")
    database_url = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    app = create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/healthz", base_url="https://127.0.0.1")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_request_id_is_taken_from_the_platform_router(client):
    response = client.get("/healthz", headers={"X-Request-ID": "router-abc-123"})
    assert response.headers["X-Request-ID"] == "router-abc-123"


def test_each_request_is_logged_once_with_its_id(client, caplog):
    caplog.set_level("INFO", logger="formyard.request")
    response = client.get("/healthz")
    lines = [r.getMessage() for r in caplog.records if r.name == "formyard.request"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /healthz 200 ")
    assert f"request_id={response.headers['X-Request-ID']}" in lines[0]


@pytest.mark.parametrize("path", ["/login", "/account", "/users/new"])
def test_state_changing_requests_without_csrf_token_are_refused(app, client, owner, path):
    AuthActions(client).login()
    response = client.post(path, data={"email": "x@example.com", "display_name": "X"})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)


def test_logout_without_csrf_token_does_not_sign_out(client, auth, owner):
    auth.login()
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "localhost:5000@evil"])
def test_requests_for_other_hosts_get_400(client, host):
    response = client.get("/healthz", headers={"Host": host})
    assert response.status_code == 400
    assert "Unknown host" in response.get_data(as_text=True)


def test_trusted_host_with_port_is_accepted(client):
    assert client.get("/healthz", headers={"Host": "localhost:5000"}).status_code == 200


@pytest.fixture
def error_app(app):
    """The app with routes that fail in each way, added before its first request."""
    for status in (400, 403, 404, 405, 413, 422, 429):
        app.add_url_rule(f"/fail/{status}", f"fail_{status}", lambda s=status: abort(s))

    def crash():
        raise RuntimeError("boom")

    app.add_url_rule("/fail/500", "fail_500", crash)
    app.add_url_rule("/api/fail/500", "api_fail_500", crash)
    app.add_url_rule("/limited", "limited", limiter.limit("1 per minute")(lambda: "ok"))
    app.config["MAX_CONTENT_LENGTH"] = 1024
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500s as production does
    return app


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413, 422, 429, 500])
def test_error_pages_are_html_in_the_sites_look(error_app, owner, status):
    response = error_app.test_client().get(f"/fail/{status}")
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"Error {status}" in page
    assert "/static/css/app.css" in page
    assert "Traceback" not in page


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413, 422, 429, 500])
def test_errors_are_json_for_json_clients(error_app, owner, status):
    response = error_app.test_client().get(
        f"/fail/{status}", headers={"Accept": "application/json"}
    )
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"]
    assert error["message"]


def test_errors_under_api_are_json_whatever_the_client_accepts(error_app):
    client = error_app.test_client()
    not_found = client.get("/api/nothing-here", headers={"Accept": "text/html"})
    assert not_found.status_code == 404
    assert not_found.get_json() == {
        "error": {"code": "not_found", "message": not_found.get_json()["error"]["message"]}
    }
    crash = client.get("/api/fail/500")
    assert crash.status_code == 500
    assert crash.get_json()["error"]["code"] == "server_error"
    assert crash.headers["Cache-Control"] == "no-store"


def test_real_405_and_413_and_429(error_app, owner):
    client = error_app.test_client()
    method = client.put("/login")
    assert method.status_code == 405
    assert "GET" in method.headers["Allow"]
    too_large = client.post("/login", data={"email": "x" * 4096})
    assert too_large.status_code == 413
    assert "too large" in too_large.get_data(as_text=True)
    assert client.get("/limited").status_code == 200
    limited = client.get("/limited")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0


def test_server_error_logs_the_traceback(error_app, owner, caplog):
    response = error_app.test_client().get("/fail/500")
    assert response.status_code == 500
    logged = [r for r in caplog.records if r.exc_info]
    assert logged
    assert "boom" in str(logged[0].exc_info[1])
