"""The Procfile as a platform runs it: honcho runs the release phase, then web and worker, on
PostgreSQL and Redis, with production settings; a form posted on the public page reaches a
webhook receiver, signed.

The test sets the app up the way an operator would: ``flask users create`` and ``flask tokens
create`` through ``honcho run``, then the API for the form and its webhook.
"""

from __future__ import annotations

import re
import shlex
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from standardwebhooks import WebhookVerificationError

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.delivery_helpers import free_port
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.process_helpers import PROJECT_DIR
from tests.process_helpers import VENV_BIN
from tests.process_helpers import Program
from tests.process_helpers import fetch
from tests.process_helpers import listening_addresses
from tests.process_helpers import loopback_gunicorn
from tests.process_helpers import production_settings
from tests.process_helpers import program_environment
from tests.process_helpers import require_postgresql_and_redis
from tests.process_helpers import require_program
from tests.process_helpers import run_program
from tests.process_helpers import scratch_database
from tests.process_helpers import signal_group
from tests.process_helpers import start_program
from tests.process_helpers import stop_program
from tests.process_helpers import wait_until
from tests.process_helpers import wait_until_healthy

SLUG = "contact"
ANSWERS = {"name": "Ada Lovelace", "email": "ada@example.com", "message": "Hello from honcho"}
STARTED_RE = re.compile(r"\S+ started \(pid=(\d+)\)")


@dataclass
class Deployment:
    """The project's Procfile and an env file, as honcho reads them on a platform."""

    honcho: str
    env_file: Path
    port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str) -> list[str]:
        common = ["--app-root", str(PROJECT_DIR), "--procfile", "Procfile"]
        return [self.honcho, args[0], *common, "--env", str(self.env_file), *args[1:]]


@pytest.fixture
def deployment(tmp_path) -> Iterator[Deployment]:
    require_postgresql_and_redis()
    honcho = require_program(VENV_BIN / "honcho")
    with scratch_database("procfile") as database_url:
        port = free_port()
        settings = production_settings(database_url, f"http://127.0.0.1:{port}")
        settings.update(loopback_gunicorn(port))
        env_file = tmp_path / "procfile.env"
        env_file.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in settings.items()))
        yield Deployment(honcho, env_file, port, program_environment({}))


def test_procfile_serves_a_submission_and_its_webhook_arrives(deployment, receiver, tmp_path):
    run_program(deployment.command("start", "release"), deployment.env)
    token = create_owner_and_token(deployment)

    honcho = start_program(
        deployment.command("start", "--no-colour", "--port", str(deployment.port), "web", "worker"),
        deployment.env,
        tmp_path / "honcho.log",
    )
    try:
        wait_until_healthy(deployment.url, honcho)
        assert listening_addresses(deployment.port) == {"127.0.0.1"}
        secret = create_form_with_webhook(deployment, token, receiver.url)

        reply = fetch("POST", f"{deployment.url}/f/{SLUG}", form=ANSWERS)
        assert reply.status == 303, reply.text
        assert reply.headers["Location"] == f"/f/{SLUG}/thanks"

        wait_until(lambda: receiver.requests, 20, "the webhook", honcho.output)
        [request] = receiver.requests
        assert request.headers["X-Formyard-Event"] == "submission.created"
        assert signature_is_valid(request, secret)
        body = request.json()
        assert body["form"]["slug"] == SLUG
        assert body["answers"] == ANSWERS
    finally:
        stop_honcho(honcho)


def create_owner_and_token(deployment: Deployment) -> str:
    """The owner and an API token for them, made with ``flask`` commands; the token."""
    env = {**deployment.env, "FORMYARD_PASSWORD": PASSWORD}
    flask = ("run", "flask")
    run_program(
        deployment.command(*flask, "users", "create", "--email", OWNER_EMAIL, "--role", "owner"),
        env,
    )
    created = run_program(
        deployment.command(
            *flask, "tokens", "create", "--email", OWNER_EMAIL, "--scope", "write", "--name", "ci"
        ),
        env,
    )
    return created.stdout.strip().splitlines()[-1]


def create_form_with_webhook(deployment: Deployment, token: str, url: str) -> str:
    """A published contact form sending to ``url``, made through the API; the webhook secret."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    api = f"{deployment.url}/api/v1"
    form = {"template": "contact", "slug": SLUG}
    created = fetch("POST", f"{api}/forms", headers=headers, json_body=form)
    assert created.status == 201, created.text
    form_url = f"{api}/forms/{created.json()['id']}"
    published = fetch("POST", f"{form_url}/publish", headers=headers)
    assert published.status == 200, published.text
    webhook = fetch("POST", f"{form_url}/webhooks", headers=headers, json_body={"url": url})
    assert webhook.status == 201, webhook.text
    return webhook.json()["secret"]


def signature_is_valid(request, secret: str) -> bool:
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    return True


def stop_honcho(honcho: Program) -> None:
    """honcho stops web and worker on SIGTERM; should it not, their process groups go too."""
    children = [int(pid) for pid in STARTED_RE.findall(honcho.output())]
    if not stop_program(honcho, timeout=25):
        for pid in children:
            signal_group(pid, signal.SIGKILL)
