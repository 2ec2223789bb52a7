"""Migrations build the schema from empty on each database and carry every model change."""

import base64
import uuid
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy import inspect
from sqlalchemy import text

from app import MIGRATIONS_DIR
from app import create_app
from app.extensions import db
from app.models.search_index import include_name
from config import normalize_database_url
from tests.database_helpers import require_service


def test_migrations_have_a_single_head():
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}; merge them"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    # A database of its own, so the other tests' tables are not in the way.
    server_url = normalize_database_url(require_service("TEST_DATABASE_URL"))
    name = f"formyard_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(server_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def migrated_app(empty_database_url):
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_upgrade_from_empty_builds_exactly_the_models(migrated_app):
    with migrated_app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": True, "include_name": include_name},
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], (
        "the models have changes that no migration carries; run `flask db migrate -m '...'`, "
        f"review it, and commit it: {differences}"
    )


def test_readyz_is_ready_at_head_and_not_before(migrated_app):
    client = migrated_app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["migrations"] == "at head"
    with migrated_app.app_context():
        downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        assert "users" not in inspect(db.engine).get_table_names()
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.get_json()["ready"] is False


def test_0013_keeps_each_old_webhook_secrets_key_in_the_standard_form(migrated_app):
    """An endpoint made before 0013 (secret: whsec_ and 43 URL-safe characters, the text
    itself the key) gets the whsec_<base64> of that text: the same key bytes, so the deprecated
    signature its receiver checks does not change. A secret in the new form is kept."""
    from app.services.delivery import webhooks
    from tests.delivery_helpers import add_webhook
    from tests.form_helpers import make_form

    migrated_app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    form_id = make_form(migrated_app, publish=False).id
    old_id, _ = add_webhook(migrated_app, form_id, "http://127.0.0.1:9/old")
    new_id, new_secret = add_webhook(migrated_app, form_id, "http://127.0.0.1:9/new")
    old_secret = "whsec_Hj6nCLcPN8g5AOpLA8lB8kegAKlIASfaSe6GvAqB3is"
    with migrated_app.app_context():
        db.session.execute(
            text("UPDATE webhook_endpoints SET secret = :secret WHERE id = :id"),
            {"secret": old_secret, "id": old_id},
        )
        db.session.commit()
        downgrade(directory=str(MIGRATIONS_DIR), revision="0012")
        upgrade(directory=str(MIGRATIONS_DIR))
        secrets = dict(db.session.execute(text("SELECT id, secret FROM webhook_endpoints")).all())
        db.session.commit()
    assert secrets[new_id] == new_secret
    assert secrets[old_id] == "whsec_" + base64.b64encode(old_secret.encode()).decode()
    assert webhooks.signing_key(secrets[old_id]) == old_secret.encode()
    with migrated_app.app_context():
        downgrade(directory=str(MIGRATIONS_DIR), revision="0012")
        restored = dict(db.session.execute(text("SELECT id, secret FROM webhook_endpoints")).all())
        db.session.commit()
    assert restored == {old_id: old_secret, new_id: new_secret}
