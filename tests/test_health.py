"""Liveness and readiness probes."""


def test_healthz_answers_without_a_user_or_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_not_ready_when_the_schema_was_not_migrated(client):
    # The test schema comes from create_all, so no migration is recorded.
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "ok"
    assert body["migrations"] == "behind"


def test_readyz_is_not_ready_when_the_database_is_unreachable(tmp_path):
    from app import create_app

    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-dir/nope.sqlite3",
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"].startswith("error")
