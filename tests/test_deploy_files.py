"""The deploy files (Procfile, app.json, render.yaml, Dockerfile, docker-compose.yml, the GitHub
workflow) agree with each other and name only settings the app reads."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTING_RE = re.compile(r'(?:environ\.get|env_int|env_bool|env_list)\(\s*"([A-Z0-9_]+)"')
# Read by gunicorn.conf.py, the flask command, Python itself, or set by the platform's add-ons.
OUTSIDE_CONFIG = {"PORT", "WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "FLASK_APP"}


def settings_the_app_reads() -> set[str]:
    return set(SETTING_RE.findall((ROOT / "config.py").read_text())) | OUTSIDE_CONFIG


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def load_yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def test_procfile_has_release_web_and_worker():
    assert procfile() == {
        "release": "flask db upgrade",
        "web": "gunicorn wsgi:app",
        "worker": "flask worker",
    }


def test_python_version_matches_the_one_ruff_targets():
    version = (ROOT / ".python-version").read_text().strip()
    assert version == "3.11"
    assert 'target-version = "py311"' in (ROOT / "pyproject.toml").read_text()


def test_app_json_asks_heroku_for_postgres_redis_a_secret_and_both_processes():
    manifest = json.loads((ROOT / "app.json").read_text())
    plans = [addon["plan"].split(":")[0] for addon in manifest["addons"]]
    assert plans == ["heroku-postgresql", "heroku-redis"]
    assert manifest["env"]["SECRET_KEY"]["generator"] == "secret"
    assert manifest["env"]["APP_ENV"]["value"] == "production"
    assert manifest["env"]["TRUSTED_PROXY_COUNT"]["value"] == "1"
    assert manifest["env"]["BASE_URL"]["required"] is True
    assert set(manifest["formation"]) == {"web", "worker"} <= set(procfile())
    assert "release" in procfile()  # Heroku runs it before each release goes live


def test_app_json_names_only_settings_the_app_reads_each_with_a_description():
    env = json.loads((ROOT / "app.json").read_text())["env"]
    assert set(env) <= settings_the_app_reads()
    assert all(spec["description"] for spec in env.values())


def test_heroku_build_compresses_the_static_files():
    hook = ROOT / "bin" / "post_compile"
    assert os.access(hook, os.X_OK)
    assert "python -m whitenoise.compress app/static" in hook.read_text()


def render_services() -> dict[str, dict]:
    return {service["name"]: service for service in load_yaml("render.yaml")["services"]}


def test_render_runs_the_procfile_commands():
    services = render_services()
    commands = procfile()
    web = services["formyard-web"]
    assert web["type"] == "web"
    assert web["startCommand"] == commands["web"]
    assert web["preDeployCommand"] == commands["release"]
    assert "whitenoise.compress" in web["buildCommand"]
    assert services["formyard-worker"]["type"] == "worker"
    assert services["formyard-worker"]["startCommand"] == commands["worker"]


def test_render_wires_database_redis_and_a_generated_secret_key():
    blueprint = load_yaml("render.yaml")
    services = render_services()
    databases = {database["name"] for database in blueprint["databases"]}
    groups = {group["name"]: group["envVars"] for group in blueprint["envVarGroups"]}
    shared = {var["key"]: var for var in groups["formyard-settings"]}
    assert shared["SECRET_KEY"] == {"key": "SECRET_KEY", "generateValue": True}
    for name in ("formyard-web", "formyard-worker"):
        env = {var["key"]: var for var in services[name]["envVars"] if "key" in var}
        assert {"fromGroup": "formyard-settings"} in services[name]["envVars"]
        assert env["DATABASE_URL"]["fromDatabase"]["name"] in databases
        redis = env["REDIS_URL"]["fromService"]
        assert services[redis["name"]]["type"] == redis["type"] == "keyvalue"
        for var in env.values():
            source = var.get("fromService", {})
            if "envVarKey" in source:
                assert source["name"] in services


def test_render_names_only_settings_the_app_reads():
    blueprint = load_yaml("render.yaml")
    keys = {var["key"] for group in blueprint["envVarGroups"] for var in group["envVars"]}
    for service in blueprint["services"]:
        keys |= {var["key"] for var in service.get("envVars", []) if "key" in var}
    assert keys <= settings_the_app_reads()


def test_compose_runs_release_before_web_and_worker_with_postgres_and_redis():
    services = load_yaml("docker-compose.yml")["services"]
    commands = procfile()
    assert " ".join(services["release"]["command"]) == commands["release"]
    assert " ".join(services["web"]["command"]) == commands["web"]
    assert " ".join(services["worker"]["command"]) == commands["worker"]
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["release"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services["release"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["postgres"]["healthcheck"] and services["redis"]["healthcheck"]
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert services["web"]["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert set(services["web"]["environment"]) <= settings_the_app_reads()


def test_compose_file_is_valid_for_docker_compose():
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed")
    result = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        env={**os.environ, "SECRET_KEY": "x" * 64},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_builds_in_two_stages_and_runs_gunicorn_as_a_plain_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", dockerfile, re.MULTILINE)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert all(image.endswith("-slim-bookworm") for image, _ in stages)
    assert "pip wheel --wheel-dir /wheels -r requirements.txt" in dockerfile
    assert "python -m whitenoise.compress app/static" in dockerfile
    assert re.search(r"^USER formyard$", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.MULTILINE)
    assert re.findall(r"^CMD .*$", dockerfile, re.MULTILINE) == ['CMD ["gunicorn", "wsgi:app"]']
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "instance/*"} <= set(ignored)


def workflow() -> dict:
    return load_yaml(".github/workflows/ci.yml")


def test_workflow_runs_make_test_with_the_services_ci_run_requires():
    job = workflow()["jobs"]["test"]
    ci_run = (ROOT / ".ci" / "run").read_text()
    exported = set(re.findall(r"^export ([A-Z_]+)=", ci_run, re.MULTILINE))
    test_settings = {"TEST_DATABASE_URL", "REDIS_URL", "REQUIRE_SERVICES", "REQUIRE_BROWSER"}
    assert test_settings <= exported
    assert set(job["env"]) == test_settings
    assert job["env"]["REQUIRE_SERVICES"] == job["env"]["REQUIRE_BROWSER"] == "1"
    assert {"postgres", "redis"} <= set(job["services"])
    commands = "\n".join(step.get("run", "") for step in job["steps"])
    installed = set(re.search(r"apt-get install -y -qq (.+)", commands).group(1).split())
    assert set(re.findall(r"apt_install ([a-z][\w.-]*)", ci_run)) <= installed
    assert "chromium" in installed
    assert job["steps"][-1]["run"] == "make test"


def actionlint_program() -> str:
    program = Path(sys.executable).parent / "actionlint"
    if program.exists():
        return str(program)
    message = f"{program} is not installed (pip install -r requirements-dev.txt)"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def test_workflow_passes_actionlint():
    result = subprocess.run(
        [actionlint_program(), "-no-color", ".github/workflows/ci.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
