"""README's API walk-through, run word for word: its shell block, taken from README.md, against
a live development server (``flask run``, as ``make run`` starts it) on a fresh database and on
one already in use, each line of output as the README's comments say."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from app.models import Submission
from app.services import forms
from app.services.accounts import users
from tests.delivery_helpers import free_port
from tests.process_helpers import PROJECT_DIR
from tests.process_helpers import VENV_BIN
from tests.process_helpers import program_environment
from tests.process_helpers import require_program
from tests.process_helpers import run_program
from tests.process_helpers import start_program
from tests.process_helpers import stop_program
from tests.process_helpers import wait_until_healthy

README = PROJECT_DIR / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    start = text.index("**A walk-through with curl**")
    return re.search(r"```sh\n(.*?)```", text[start:], re.S).group(1)


def expected_output(script: str) -> list[str]:
    """The comment lines right after a command: what the README says comes back. A comment
    after a blank line explains the next step instead."""
    lines, after_command = [], False
    for line in script.splitlines():
        if line.startswith("# "):
            if after_command:
                lines.append(line[2:])
        else:
            after_command = bool(line.strip())
    return lines


def test_the_readme_names_its_outputs():
    expected = expected_output(walkthrough())
    assert expected[0] == "Created ann@example.com (owner)."
    assert "Ann Call back on Monday" in expected
    assert not any(line.startswith(("1.", "2.", "pick KEY")) for line in expected)


@pytest.fixture
def server_env(tmp_path):
    url = f"sqlite:///{tmp_path / 'walkthrough.sqlite3'}"
    env = program_environment({"APP_ENV": "development", "DATABASE_URL": url})
    for name in ("FORMYARD_PASSWORD", "REDIS_URL", "TEST_DATABASE_URL", "SQLALCHEMY_DATABASE_URI"):
        env.pop(name, None)
    run_program([str(VENV_BIN / "flask"), "db", "upgrade"], env)
    return env, url


def serve(env: dict[str, str], tmp_path: Path):
    port = free_port()
    program = start_program(
        [str(VENV_BIN / "flask"), "run", "--host", "127.0.0.1", "--port", str(port)],
        env,
        tmp_path / "server.log",
    )
    wait_until_healthy(f"http://127.0.0.1:{port}", program)
    return program, port


def run_walkthrough(env: dict[str, str], port: int) -> list[str]:
    script = walkthrough().replace(".venv/bin/", f"{VENV_BIN}/")
    script = script.replace("http://127.0.0.1:5000", f"http://127.0.0.1:{port}")
    shell_env = {name: value for name, value in env.items() if name != "APP_ENV"}
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=PROJECT_DIR,
        env=shell_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # in the order a terminal shows them
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout
    # The token, printed once, differs each time: the README shows its start as fy_XXXX….
    return re.sub(r"\bfy_[^\s…]{4}…", "fy_XXXX…", result.stdout).splitlines()


def test_on_a_fresh_database_every_output_is_as_the_readme_says(server_env, tmp_path):
    env, _url = server_env
    program, port = serve(env, tmp_path)
    try:
        output = run_walkthrough(env, port)
    finally:
        stop_program(program)
    # Links in answers come from BASE_URL, http://127.0.0.1:5000 in development.
    assert "\n".join(output) == "\n".join(expected_output(walkthrough()))


def use_through_the_pages(url: str) -> None:
    """An owner, a form with the slug the walk-through's would take, and its submissions."""
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        owner = users.create_owner("olga@example.com", "Olga", "owner's long passphrase")
        form = forms.create_form(owner, template="contact")
        forms.publish(form, owner)
        for name in ("Zed", "Yan"):
            db.session.add(
                Submission(
                    form_id=form.id,
                    version_id=form.published_version_id,
                    answers={"name": name, "email": "z@example.com", "message": "hello"},
                )
            )
        db.session.commit()
        db.engine.dispose()


def test_on_a_database_in_use_it_makes_its_own_user_and_form(server_env, tmp_path):
    env, url = server_env
    use_through_the_pages(url)
    program, port = serve(env, tmp_path)
    try:
        first = run_walkthrough(env, port)
        again = run_walkthrough(env, port)
    finally:
        stop_program(program)
    expected = expected_output(walkthrough())
    # Ann joins as an editor; her form's slug is the title's with a suffix, as "contact-us"
    # is taken; the form's submissions are its own, not the other form's.
    made = [line.replace("(owner)", "(editor)") for line in expected]
    slug = re.compile(r"/f/contact-us-[0-9a-f]{6}\"")
    assert [slug.sub('/f/contact-us"', line) for line in first] == made
    assert slug.search("\n".join(first))
    # A second run finds Ann and makes another form of hers.
    assert [slug.sub('/f/contact-us"', line) for line in again] == made[1:]


def test_make_run_says_where_formyard_is_and_serves_there(tmp_path):
    """``make run`` with a virtual environment already set up (this one, linked), on a port of
    the test's own: it says the address before serving, and the address answers."""
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "bin").symlink_to(VENV_BIN)
    (venv / ".installed").touch()
    port = free_port()
    url = f"sqlite:///{tmp_path / 'make-run.sqlite3'}"
    env = program_environment({"DATABASE_URL": url})
    env.pop("APP_ENV", None)
    program = start_program(
        [require_program("/usr/bin/make"), "run", f"VENV={venv}", f"PORT={port}"],
        env,
        tmp_path / "make-run.log",
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", program)
    finally:
        stop_program(program)
    said = program.output()
    assert f"Formyard is at http://127.0.0.1:{port}\n" in said
    # Flask's own "Running on" line does not show (the app's logging leaves werkzeug's out),
    # so this line is the one place a user reads the address.
    assert said.index("Formyard is at") < said.index(" * Serving Flask app")
