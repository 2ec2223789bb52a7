"""How fast the public form page is, next to a bare Flask hello-world served the same way.

Serves Formyard and ``bench/hello_app.py`` with gunicorn (sync workers) on 127.0.0.1, loads them
with wrk, and prints requests per second, latency and errors for ``GET /`` (hello-world),
``GET /f/<slug>`` and ``POST /f/<slug>`` of a published 10-field form, each against its target.
After the POST run it checks that every 303 answer left exactly one stored submission. Exit
code 1 when a target is missed. It is a benchmark that prints figures, not a test.

    .venv/bin/python bench/forms_bench.py --database sqlite
    .venv/bin/python bench/forms_bench.py --database postgresql   # needs a local PostgreSQL

Needs wrk (``apt-get install -y wrk``). PostgreSQL: a fresh database is created on the server
of ``--database-url`` / ``BENCH_DATABASE_URL`` (default postgresql://postgres@127.0.0.1:5432/)
and dropped at the end.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "wrk_scenario.lua"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/"
FORM_SLUG = "bench-ten-fields"
# High enough that the limiter never answers 429 to the benchmark; it still runs on every post.
RATE_LIMIT = "1000000 per minute"
GRACE_SECONDS = 2  # wrk runs this long after the window so every request sent is answered
READY_TIMEOUT = 60.0
TARGET_P99_MS = 100.0
GET_RATIO = 0.5
POST_RATIO = {"sqlite": 0.2, "postgresql": 0.12}

# The 10 fields: (key, type, rules, answer(s) posted). Every field is required and answered.
FIELDS = [
    ("name", "short_text", {"max_length": 200}, ["BENCHTAG"]),
    ("email", "email", {}, ["ada.lovelace@example.com"]),
    ("age", "number", {"kind": "integer", "min": 0, "max": 150}, ["36"]),
    ("phone", "phone", {}, ["+44 20 7946 0958"]),
    ("website", "url", {}, ["https://example.com/ada"]),
    ("birthday", "date", {}, ["1990-12-10"]),
    ("plan", "single_choice", {"choices": ["basic", "pro", "team"]}, ["pro"]),
    ("topics", "multiple_choice", {"choices": ["news", "events", "offers"]}, ["news", "events"]),
    ("comments", "long_text", {}, ["Loved the workshop; more on migrations, please. " * 4]),
    ("rating", "rating", {"scale": "stars"}, ["4"]),
]

# Read straight from the tables, not through the app, so that the check depends on the schema
# only: answers is JSON text on SQLite and json on PostgreSQL.
ROWS_QUERY = """
SELECT s.answers FROM submissions AS s JOIN forms AS f ON f.id = s.form_id WHERE f.slug = :slug
"""
COUNTER_QUERY = "SELECT submission_count FROM forms WHERE slug = :slug"


@dataclass
class Outcome:
    """What wrk saw in one scenario."""

    name: str
    expected_status: int
    raw: dict

    @property
    def rate(self) -> float:
        return self.raw["in_window"] / self.raw["window_s"]

    @property
    def successes(self) -> int:
        return self.raw["statuses"].get(str(self.expected_status), 0)

    @property
    def bad_statuses(self) -> dict[str, int]:
        ok = str(self.expected_status)
        return {code: n for code, n in self.raw["statuses"].items() if code != ok}

    @property
    def socket_errors(self) -> dict[str, int]:
        errors = self.raw["errors"]
        return {key: errors[key] for key in ("connect", "read", "write", "timeout") if errors[key]}

    @property
    def error_count(self) -> int:
        return sum(self.bad_statuses.values()) + sum(self.socket_errors.values())

    @property
    def unanswered(self) -> int:
        return self.raw["sent"] - self.raw["requests"]

    def ms(self, key: str) -> float:
        return self.raw[key] / 1000.0

    def cpu_ms(self, kind: str) -> float:
        """CPU milliseconds per answered request: gunicorn ("server"), PostgreSQL ("db"), wrk."""
        return self.raw["cpu"][kind] * 1000.0 / max(self.raw["requests"], 1)

    @property
    def cpu_total_ms(self) -> float:
        return sum(self.cpu_ms(kind) for kind in self.raw["cpu"])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER_URL),
        help="PostgreSQL server to create the throwaway database on",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per scenario")
    parser.add_argument(
        "--rounds", type=int, default=1, help="hello/GET/hello/POST/hello runs; medians"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--log-level", default="WARNING", help="Formyard's LOG_LEVEL")
    parser.add_argument(
        "--ratelimit-storage",
        default="formyard-memory://",
        help="RATELIMIT_STORAGE_URI: by default Formyard's own without REDIS_URL; "
        "redis://127.0.0.1:6379/15 is what a multi-worker deploy uses",
    )
    parser.add_argument(
        "--repo-gunicorn-conf",
        action="store_true",
        help="load gunicorn.conf.py too (worker recycling every ~2000 requests)",
    )
    args = parser.parse_args()
    if not 1 <= args.duration <= 600 or not 0 <= args.warmup <= 60 or not 1 <= args.rounds <= 20:
        parser.error("need --duration 1..600 s, --warmup 0..60 s and --rounds 1..20")
    if not 1 <= args.threads <= args.connections <= 1000 or not 1 <= args.workers <= 64:
        parser.error("need 1 <= threads <= connections <= 1000 and 1..64 workers")
    return args


# --- database and app settings ---------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """The URL of an empty database, removed afterwards."""
    if args.database == "sqlite":
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    name = f"formyard_bench_{secrets.token_hex(4)}"
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        parts = urlsplit(args.database_url)
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            connection.execute(drop.format(sql.Identifier(name)))
        print(f"Dropped PostgreSQL database {name}.")


def app_environment(database_url: str, args: argparse.Namespace) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUNICORN_", "FLASK_")) and key != "WEB_CONCURRENCY"
    }
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        TRUSTED_HOSTS="127.0.0.1",
        SESSION_COOKIE_SECURE="0",
        SUBMISSION_RATE_LIMIT=RATE_LIMIT,
        LOG_LEVEL=args.log_level.upper(),
        # Set, so that a developer's .env cannot switch the limiter's storage behind our back.
        REDIS_URL="",
        RATELIMIT_STORAGE_URI=getattr(args, "ratelimit_storage", "formyard-memory://"),
        RATELIMIT_KEY_PREFIX=f"formyard-bench-{secrets.token_hex(4)}:",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_python(env: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, *arguments],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"`python {' '.join(arguments[:5])}` failed:\n{result.stderr[-3000:]}")
    return result.stdout


def create_bench_form(env: dict[str, str], workdir: Path) -> None:
    """A published 10-field form, through `flask forms import` like forms kept in git."""
    fields = [
        {"key": key, "type": type_name, "label": key.title(), "required": True, "rules": rules}
        for key, type_name, rules, _ in FIELDS
    ]
    definition = {
        "formyard": 1,
        "slug": FORM_SLUG,
        "title": "Benchmark: ten fields",
        "description": "A form with one field of each common type.",
        "kind": "built",
        "status": "open",
        "fields": fields,
    }
    path = workdir / "bench-form.json"
    path.write_text(json.dumps(definition, indent=2))
    run_python(env, "-m", "flask", "--app", "wsgi", "forms", "import", str(path))


def post_body() -> str:
    pairs = [(key, answer) for key, _, _, answers in FIELDS for answer in answers]
    return urlencode(pairs)


def stored_submissions(env: dict[str, str], tag_prefix: str) -> dict:
    """The form's rows, its submission counter, and the tags of rows named ``tag_prefix...``."""
    from sqlalchemy import create_engine
    from sqlalchemy import text

    url = env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            answers = connection.execute(text(ROWS_QUERY), {"slug": FORM_SLUG}).scalars().all()
            counter = connection.execute(text(COUNTER_QUERY), {"slug": FORM_SLUG}).scalar_one()
    finally:
        engine.dispose()
    names = [str(_answers(row).get("name", "")) for row in answers]
    tags = [name for name in names if name.startswith(tag_prefix)]
    return {"rows": len(names), "counter": counter, "tags": tags}


def _answers(value: object) -> dict:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value or {})


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(
    name: str, target: str, cwd: Path, env: dict[str, str], args, workdir: Path
) -> Iterator[int]:
    """Serve ``target`` on a free port with sync workers; stop it by pid when done."""
    port = free_port()
    config = REPO_ROOT / "gunicorn.conf.py"
    if not args.repo_gunicorn_conf:
        config = workdir / "empty.conf.py"  # else gunicorn would find ./gunicorn.conf.py
        config.touch()
    log_path = workdir / f"{name}.log"
    command = [
        *(sys.executable, "-m", "gunicorn", target, "-c", str(config)),
        *("-w", str(args.workers), "-k", "sync", "-b", f"127.0.0.1:{port}"),
        *("--error-logfile", "-", "--pid", str(workdir / f"{name}.pid")),  # no access log
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_ready(process, port, "/healthz" if name == "formyard" else "/", log_path)
        yield port
    finally:
        stop(process)


def wait_until_ready(process: subprocess.Popen, port: int, path: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError):
            if fetch(port, "GET", path)[0] == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn on port {port} did not answer; its log:\n{log_path.read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only what we started
        process.wait(timeout=10)


def fetch(port: int, method: str, path: str, body: str | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def check_form_answers(port: int) -> None:
    """One GET and one POST by hand first, so a broken setup fails with a readable reason."""
    status, page = fetch(port, "GET", f"/f/{FORM_SLUG}")
    if status != 200:
        raise SystemExit(f"GET /f/{FORM_SLUG} answered {status}:\n{page[:2000]}")
    body = post_body().replace("BENCHTAG", "check-0-0")
    status, page = fetch(port, "POST", f"/f/{FORM_SLUG}", body)
    if status != 303:
        raise SystemExit(f"POST /f/{FORM_SLUG} answered {status}, not 303:\n{page[:3000]}")


# --- CPU time ----------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User and system time of a process from /proc (with its reaped children's, if asked)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: workers that were recycled
    return ticks / CLOCK_TICKS


def children_of(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


@dataclass
class CpuMeter:
    """CPU time of a gunicorn server (master and workers) and of its PostgreSQL backends.

    CPU milliseconds per request hardly change when other work shares the machine, unlike
    requests per second, so they show whether a missed target is the app or a busy machine.
    """

    pid_file: Path
    database: tuple[str, str] | None = None  # server URL and database name, for PostgreSQL

    def snapshot(self) -> dict[str, dict[int, float]]:
        master = int(self.pid_file.read_text())
        server = {master: cpu_seconds(master, reaped_children=True)}
        for pid in children_of(master):
            with contextlib.suppress(OSError, IndexError, ValueError):
                server[pid] = cpu_seconds(pid)
        snapshot = {"server": server}
        if self.database:
            snapshot["db"] = {}
            for pid in backend_pids(*self.database):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    snapshot["db"][pid] = cpu_seconds(pid)
        return snapshot


def backend_pids(server_url: str, name: str) -> list[int]:
    import psycopg

    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    with psycopg.connect(server_url, autocommit=True) as connection:
        return [row[0] for row in connection.execute(query, (name,))]


def postgres(args: argparse.Namespace, database_url: str) -> tuple[str, str] | None:
    if args.database != "postgresql":
        return None
    return args.database_url, urlsplit(database_url).path.lstrip("/")


# --- load --------------------------------------------------------------------------------------


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return path


def run_wrk(port: int, method: str, path: str, seconds: int, tag: str, args, body="") -> dict:
    command = [
        *(wrk_path(), "-t", str(args.threads), "-c", str(args.connections)),
        *("-d", f"{seconds + GRACE_SECONDS}s", "--timeout", "10s", "-s", str(LUA_SCRIPT)),
        f"http://127.0.0.1:{port}",
        *("--", method, path, str(seconds), tag, body),
    ]
    result = subprocess.run(  # noqa: S603 (wrk with our own arguments)
        command, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    for line in result.stdout.splitlines():
        if line.startswith("FORMYARD_BENCH "):
            return {**json.loads(line.removeprefix("FORMYARD_BENCH ")), "window_s": seconds}
    raise SystemExit(f"wrk gave no result:\n{result.stdout}\n{result.stderr}")


def metered_wrk(
    meter: CpuMeter, port: int, method: str, path: str, tag: str, args, body=""
) -> dict:
    """The measured run: wrk's figures plus the CPU time each party spent on it."""
    before, wrk_before = meter.snapshot(), resource.getrusage(resource.RUSAGE_CHILDREN)
    raw = run_wrk(port, method, path, args.duration, tag, args, body)
    after, wrk_after = meter.snapshot(), resource.getrusage(resource.RUSAGE_CHILDREN)
    used = {kind: cpu_delta(before[kind], after[kind]) for kind in after}
    wrk_cpu = wrk_after.ru_utime + wrk_after.ru_stime - wrk_before.ru_utime - wrk_before.ru_stime
    return {**raw, "cpu": {**used, "wrk": wrk_cpu}}


def scenario(name: str, meter: CpuMeter, port: int, path: str, args) -> Outcome:
    """A GET scenario: warm-up, then the measured run."""
    if args.warmup:
        run_wrk(port, "GET", path, args.warmup, "bench-w", args)
    return Outcome(name, 200, metered_wrk(meter, port, "GET", path, "bench-m", args))


def check_stored(post: Outcome, tag: str, before: dict, after: dict) -> tuple[bool, str]:
    """Every request answered 303 left exactly one row; the tags (X-Request-ID) say which."""
    answered = dict(item.split(" ") for item in post.raw["answered"])
    accepted = {name for name, status in answered.items() if status == "303"}
    sent = {
        f"{tag}-{thread}-{number}"
        for thread, count in post.raw["sent_by_thread"].items()
        for number in range(1, count + 1)
    }
    old = collections.Counter(before["tags"])
    stored = collections.Counter(after["tags"]) - old
    rows = after["rows"] - before["rows"]
    counter = after["counter"] - before["counter"]
    missing = accepted - set(stored)
    twice = [name for name, count in stored.items() if count > 1]
    unexplained = set(stored) - accepted - (sent - set(answered))
    late = len(set(stored) - accepted - unexplained)
    ok = not missing and not twice and not unexplained and rows == stored.total() == counter
    line = (
        f"303 answers {post.successes} ({len(accepted)} tagged), new rows {rows}, "
        f"submission_count +{counter}; answered 303 but not stored: {len(missing)}, stored "
        f"twice: {len(twice)}, stored without a 303: {len(unexplained)}; rows from requests "
        f"unanswered when wrk stopped: {late} of {post.unanswered}: {'PASS' if ok else 'FAIL'}"
    )
    return ok, line


def settled_submissions(env: dict[str, str], tag: str, unanswered: int) -> dict:
    """After wrk stops, requests it gave up on may still be stored; wait until none are left."""
    counts = stored_submissions(env, f"{tag}-")
    for _ in range(20 if unanswered else 0):
        time.sleep(0.5)
        again = stored_submissions(env, f"{tag}-")
        if again["rows"] == counts["rows"]:
            break
        counts = again
    return counts


@dataclass
class Round:
    hellos: list[Outcome]  # before GET, between GET and POST, after POST
    page: Outcome
    post: Outcome
    stored_ok: bool
    stored_line: str

    @property
    def hello(self) -> Outcome:
        """Every hello-world run of the round as one."""
        return combined(self.hellos)

    @property
    def page_yardstick(self) -> Outcome:
        return combined(self.hellos[:2])

    @property
    def post_yardstick(self) -> Outcome:
        return combined(self.hellos[1:])


def combined(outcomes: list[Outcome]) -> Outcome:
    """Several runs of one scenario as one: counts and CPU added up, so the rate is their
    average; latencies are the worst of them."""
    first = outcomes[0]
    if len(outcomes) == 1:
        return first
    raws = [outcome.raw for outcome in outcomes]
    raw = dict(first.raw)
    for key in ("in_window", "window_s", "requests", "sent"):
        raw[key] = sum(r[key] for r in raws)
    raw["statuses"] = dict(
        sum((collections.Counter(r["statuses"]) for r in raws), collections.Counter())
    )
    raw["errors"] = {key: sum(r["errors"][key] for r in raws) for key in first.raw["errors"]}
    raw["cpu"] = {kind: sum(r["cpu"][kind] for r in raws) for kind in first.raw["cpu"]}
    for key in ("latency_p50_us", "latency_p99_us", "latency_max_us"):
        raw[key] = max(r[key] for r in raws)
    return Outcome(first.name, first.expected_status, raw)


def measure_round(args, number: int, servers: dict[str, tuple[int, CpuMeter]], env) -> Round:
    """hello, GET, hello, POST, hello: each form scenario is compared with the hello-world runs
    just before and after it, so the machine's speed drifting during a round (it does, by up to
    a quarter within a minute) weighs on both sides alike."""
    form_path = f"/f/{FORM_SLUG}"
    (hello_port, hello_meter), (app_port, app_meter) = servers["hello"], servers["formyard"]

    def hello() -> Outcome:
        return scenario("hello-world GET /", hello_meter, hello_port, "/", args)

    hellos = [hello()]
    page = scenario(f"GET {form_path}", app_meter, app_port, form_path, args)
    hellos.append(hello())
    if args.warmup:
        run_wrk(app_port, "POST", form_path, args.warmup, "bench-w", args, post_body())
    tag = f"bench-r{number}"  # each request's name answer is tag-THREAD-N
    before = stored_submissions(env, f"{tag}-")
    raw = metered_wrk(app_meter, app_port, "POST", form_path, tag, args, post_body())
    post = Outcome(f"POST {form_path}", 303, raw)
    after = settled_submissions(env, tag, post.unanswered)
    hellos.append(hello())
    return Round(hellos, page, post, *check_stored(post, tag, before, after))


# --- report ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: figures of one scenario (medians when there are several rounds)."""

    name: str
    rate: float
    ratio: float
    p50: float
    p99: float
    worst: float
    errors: int
    cpu: dict[str, float]  # CPU ms per request: server, db, wrk
    cpu_ratio: float  # hello's CPU per request / this one's: the ratio if CPU alone limited both
    checks: list[tuple[str, bool]]


def summarize(outcomes: list[Outcome], hellos: list[Outcome], target: float | None) -> Row:
    pairs = list(zip(outcomes, hellos, strict=True))
    ratios = [o.rate / h.rate if h.rate else 0.0 for o, h in pairs]
    kinds = ("server", "db", "wrk")
    row = Row(
        name=outcomes[0].name,
        rate=statistics.median(o.rate for o in outcomes),
        ratio=statistics.median(ratios),
        p50=statistics.median(o.ms("latency_p50_us") for o in outcomes),
        p99=statistics.median(o.ms("latency_p99_us") for o in outcomes),
        worst=max(o.ms("latency_max_us") for o in outcomes),
        errors=sum(o.error_count for o in outcomes),
        cpu={
            k: statistics.median(o.cpu_ms(k) if k in o.raw["cpu"] else 0.0 for o in outcomes)
            for k in kinds
        },
        cpu_ratio=statistics.median(h.cpu_total_ms / o.cpu_total_ms for o, h in pairs),
        checks=[],
    )
    row.checks.append(("no error", row.errors == 0))
    if target is not None:
        row.checks.append((f">= {target:.2f}x hello", row.ratio >= target))
        row.checks.append((f"p99 < {TARGET_P99_MS:.0f} ms", row.p99 < TARGET_P99_MS))
    return row


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'scenario':<26}{'req/s':>8}{'x hello':>8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
        f"{'errors':>7} | {'CPU ms/req: app':>15}{'db':>6}{'wrk':>6}{'x hello':>8} | targets"
    )
    print(header)
    print("-" * (len(header) + 60))
    for row in rows:
        verdicts = ", ".join(f"{what}: {'PASS' if ok else 'FAIL'}" for what, ok in row.checks)
        db = f"{row.cpu['db']:>6.2f}" if row.cpu["db"] else f"{'-':>6}"
        print(
            f"{row.name:<26}{row.rate:>8.1f}{row.ratio:>8.2f}{row.p50:>8.1f}{row.p99:>8.1f}"
            f"{row.worst:>8.1f}{row.errors:>7} | {row.cpu['server']:>15.2f}{db}"
            f"{row.cpu['wrk']:>6.2f}{row.cpu_ratio:>8.2f} | {verdicts}"
        )


def print_error_details(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.bad_statuses or outcome.socket_errors or outcome.unanswered:
            print(
                f"  {outcome.name}: statuses {outcome.raw['statuses']}, socket errors "
                f"{outcome.socket_errors or 'none'}, requests unanswered when wrk stopped "
                f"{outcome.unanswered}"
            )


def report(args, rounds: list[Round]) -> bool:
    hellos = [r.hello for r in rounds]
    rows = [
        summarize(hellos, hellos, None),
        summarize([r.page for r in rounds], [r.page_yardstick for r in rounds], GET_RATIO),
        summarize(
            [r.post for r in rounds], [r.post_yardstick for r in rounds], POST_RATIO[args.database]
        ),
    ]
    stored_ok = all(r.stored_ok for r in rounds)
    rows[2].checks.append(("rows == 303s", stored_ok))
    if len(rounds) > 1:
        for number, one in enumerate(rounds, 1):
            print(f"Round {number}:")
            print_table(
                [
                    summarize([one.hello], [one.hello], None),
                    summarize([one.page], [one.page_yardstick], None),
                    summarize([one.post], [one.post_yardstick], None),
                ]
            )
            print()
        print(f"Medians of {len(rounds)} rounds (errors: sum; max: worst):")
    print_table(rows)
    print(
        "\nreq/s and x hello are measured (the targets): a form scenario's x hello divides its "
        "requests per second by the average of the hello-world runs just before and after it. "
        "CPU ms/req is the CPU time gunicorn "
        "(app), PostgreSQL backends (db) and wrk spent per answered request, and its x hello "
        "is what the ratio would be if CPU alone limited both servers, which a busy machine "
        "disturbs far less than requests per second."
    )
    print("\nErrors (any status but 200 for GET and 303 for POST, socket errors):")
    print_error_details([o for r in rounds for o in (*r.hellos, r.page, r.post)])
    print("\nSubmissions stored by the measured POST run (wrk's 303s against the database):")
    for number, one in enumerate(rounds, 1):
        print(f"  round {number}: {one.stored_line}")
    return all(ok for row in rows for _, ok in row.checks)


def print_server_logs(workdir: Path, workers: int, names=("hello", "formyard")) -> None:
    """Worker restarts, timeouts and tracebacks in the gunicorn logs are worth knowing about."""
    for name in names:
        text = (workdir / f"{name}.log").read_text(errors="replace")
        boots = text.count("Booting worker")
        notable = [
            line
            for line in text.splitlines()
            if any(mark in line for mark in ("Traceback", "ERROR", "CRITICAL", "WORKER TIMEOUT"))
        ]
        print(f"  {name}: {boots} worker boots ({workers} at start), {len(notable)} error lines")
        for line in notable[:10]:
            print(f"    {line[:200]}")


def print_settings(args: argparse.Namespace, database_url: str) -> None:
    shown = database_url if args.database == "sqlite" else database_url.split("@")[-1]
    conf = "gunicorn.conf.py" if args.repo_gunicorn_conf else "none (gunicorn.conf.py not loaded)"
    wrk_version = subprocess.run(  # noqa: S603 (wrk's version)
        [wrk_path(), "-v"], capture_output=True, text=True, check=False
    )
    print(f"Formyard public form benchmark: {args.database} ({shown})")
    print(f"  machine: {os.cpu_count()} CPUs, load average {load_average()}")
    print(f"  gunicorn -w {args.workers} -k sync on 127.0.0.1, config file: {conf}")
    print(
        f"  load: {wrk_version.stdout.split(' Copyright')[0].strip()}, {args.threads} threads, "
        f"{args.connections} connections, {args.duration} s per run after {args.warmup} s of "
        f"warm-up, {args.rounds} round(s); requests in flight at the end are awaited"
    )
    print(
        f"  APP_ENV=production LOG_LEVEL={args.log_level.upper()} "
        f'SUBMISSION_RATE_LIMIT="{RATE_LIMIT}": raised so that the limiter '
        f"({args.ratelimit_storage}, still consulted on every post) never answers 429"
    )
    print(f"  form: /f/{FORM_SLUG}, 10 required fields; POST body {len(post_body())} bytes\n")


def load_average() -> str:
    """Other work on the machine skews the figures; say how busy it was."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the run -----------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    wrk_path()  # fail before setting anything up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks run
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="formyard-bench-")))
        database_url = stack.enter_context(fresh_database(args, workdir))
        env = app_environment(database_url, args)
        print_settings(args, database_url)
        run_python(env, "-m", "flask", "--app", "wsgi", "db", "upgrade")
        create_bench_form(env, workdir)
        serve = (args, workdir)
        hello_port = stack.enter_context(gunicorn("hello", "hello_app:app", BENCH_DIR, env, *serve))
        app_port = stack.enter_context(gunicorn("formyard", "wsgi:app", REPO_ROOT, env, *serve))
        check_form_answers(app_port)
        servers = {
            "hello": (hello_port, CpuMeter(workdir / "hello.pid")),
            "formyard": (
                app_port,
                CpuMeter(workdir / "formyard.pid", postgres(args, database_url)),
            ),
        }
        rounds = [measure_round(args, n, servers, env) for n in range(1, args.rounds + 1)]
        passed = report(args, rounds)
        print("\nServer logs:")
        print_server_logs(workdir, args.workers)
    print(f"\nLoad average at the end: {load_average()}")
    print(f"Overall: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
