"""Where a public form request spends its time: cProfile and SQL statements, in one process.

Sets up the same database and 10-field form as bench/forms_bench.py, then sends GET and POST
``/f/<slug>`` through Flask's test client (no gunicorn, no sockets), and prints per request the
wall time, the SQL statements, and the functions that take the time.

    .venv/bin/python bench/profile_form.py [--database sqlite|postgresql] [--requests 500]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
import timeit
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forms_bench  # a sibling script, found through the path above

BASE_URL = "http://127.0.0.1"  # the host the benchmark's TRUSTED_HOSTS allows
LOOKUP_REQUESTS = 200


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", forms_bench.DEFAULT_SERVER_URL),
    )
    parser.add_argument("--requests", type=int, default=500, help="per scenario, 1..20000")
    parser.add_argument("--top", type=int, default=30, help="functions listed per table")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    if not 1 <= args.requests <= 20000:
        parser.error("--requests must be 1..20000")
    return args


class StatementLog:
    """Every round trip to the database a request causes: statements and transaction commands
    (BEGIN, COMMIT, ROLLBACK; none on a connection in autocommit). A connection idle for a
    second is pinged first (app/database.py); back-to-back requests, as here, are not."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.listeners = [("before_cursor_execute", self.on_statement)] + [
            (name, lambda conn, name=name: self.on_transaction(conn, name))
            for name in ("begin", "commit", "rollback")
        ]

    @contextlib.contextmanager
    def listening(self, engine):
        """Record while in the block only: the listeners cost a post about 35 µs (its two
        statements, BEGIN and COMMIT on SQLite), which the timings would otherwise count."""
        from sqlalchemy import event

        for name, listener in self.listeners:
            event.listen(engine, name, listener)
        try:
            yield self
        finally:
            for name, listener in self.listeners:
                event.remove(engine, name, listener)

    def on_transaction(self, connection, name: str) -> None:
        # A connection in autocommit sends no BEGIN, COMMIT or ROLLBACK to the server.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.statements.append(name)

    def on_statement(self, _conn, _cursor, statement, _parameters, _context, _many) -> None:
        self.statements.append(" ".join(statement.split()))

    def take(self) -> list[str]:
        taken, self.statements = self.statements, []
        return taken


def send(client, method: str, path: str, body: str, number: int):
    if method == "GET":
        return client.get(path, base_url=BASE_URL)
    data = body.replace("BENCHTAG", f"profile-{number}")
    return client.post(
        path, base_url=BASE_URL, data=data, content_type="application/x-www-form-urlencoded"
    )


def timed(client, method: str, path: str, body: str, count: int, expected: int):
    """Milliseconds per request: wall time, and this process's CPU time (the app's share)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for number in range(count):
        response = send(client, method, path, body, number)
        if response.status_code != expected:
            raise SystemExit(f"{method} {path} answered {response.status_code}")
    wall = (time.perf_counter() - started) / count * 1000
    return wall, (time.process_time() - cpu_started) / count * 1000


def profile(client, method: str, path: str, body: str, count: int, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for number in range(count):
        send(client, method, path, body, 100000 + number)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(top)
        text = out.getvalue()
        print(f"--- {method} {path}: top {top} by {order} ({count} requests) ---")
        print(text[text.index("   ncalls") :])


def show_statements(log: StatementLog, client, method: str, path: str, body: str) -> None:
    log.take()
    send(client, method, path, body, 999999)
    statements = log.take()
    kinds = Counter(statement.split()[0].upper() for statement in statements)
    print(f"{method} {path}: {len(statements)} database round trips {dict(kinds)}")
    for statement in statements:
        print(f"    {statement[:160]}")


def run(args: argparse.Namespace, database_url: str) -> None:
    env = forms_bench.app_environment(database_url, args)
    forms_bench.run_python(env, "-m", "flask", "--app", "wsgi", "db", "upgrade")
    with tempfile.TemporaryDirectory(prefix="formyard-profile-") as workdir:
        forms_bench.create_bench_form(env, Path(workdir))
    os.environ.update(env)
    os.chdir(forms_bench.REPO_ROOT)
    sys.path.insert(0, str(forms_bench.REPO_ROOT))
    from app import create_app
    from app.extensions import db

    app = create_app()
    client = app.test_client()
    path, body = f"/f/{forms_bench.FORM_SLUG}", forms_bench.post_body()
    with app.app_context():
        engine = db.engine
    log = StatementLog()
    timed(client, "GET", path, body, 50, 200)  # warm caches and connections
    timed(client, "POST", path, body, 50, 303)
    cpu_ms = {}
    for method, expected in (("GET", 200), ("POST", 303)):
        with log.listening(engine):
            show_statements(log, client, method, path, body)
        wall, cpu_ms[method] = timed(client, method, path, body, args.requests, expected)
        print(
            f"{method} {path}: {wall:.2f} ms per request in-process ({cpu_ms[method]:.2f} ms CPU)\n"
        )
    show_version_lookups(app, client, path, body, cpu_ms)
    for method in ("GET", "POST"):
        profile(client, method, path, body, args.requests, args.top)
    from app.services.forms.view_counts import flush_views

    with app.app_context():
        flush_views()  # now, while the database is there, not when the process exits
        db.engine.dispose()


def show_version_lookups(app, client, path: str, body: str, cpu_ms: dict[str, float]) -> None:
    """The per-version lookups a request makes (app/services/submissions/versions.py: the
    fields, the form class, the pages and conditions), each cached per process: how often one
    request calls each, what a call costs once cached, and what the first call per version and
    process (a miss: read the version, parse it) costs; in CPU time, steadier than wall time
    on a shared machine."""
    from app.models import Form
    from app.services.submissions import versions

    lookups = {
        "version_specs": versions.version_specs,
        "version_form_class": versions.version_form_class,
        "version_flow": versions.version_flow,
    }
    with app.app_context():
        version_id = Form.query.filter_by(slug=forms_bench.FORM_SLUG).one().published_version_id
    print(f"Cached per-version lookups ({LOOKUP_REQUESTS} requests each, in-process):")
    for name, lookup in lookups.items():
        calls = {}
        for method, expected in (("GET", 200), ("POST", 303)):
            before = lookup.cache_info()
            timed(client, method, path, body, LOOKUP_REQUESTS, expected)
            after = lookup.cache_info()
            used = after.hits + after.misses - before.hits - before.misses
            calls[method] = used / LOOKUP_REQUESTS
        timer = timeit.Timer(lambda lookup=lookup: lookup(version_id), timer=time.process_time)
        hit_us = timer.timeit(number=100_000) * 10
        miss_us = _miss_microseconds(app, lookup, version_id)
        shares = ", ".join(
            f"{calls[m]:.0f} per {m} ({calls[m] * hit_us:.2f} µs, "
            f"{calls[m] * hit_us / (cpu_ms[m] * 10):.3f}% of its CPU)"
            for m in ("GET", "POST")
        )
        print(f"  {name:<19} {hit_us:.3f} µs per cached call, {miss_us:.0f} µs per miss; {shares}")
    print()


def _miss_microseconds(app, lookup, version_id: int, repeats: int = 200) -> float:
    """A miss as the first request after a worker starts meets it: a fresh session reads the
    version and the lookup parses it (this process's CPU time: on PostgreSQL, the server's
    share of the read is not in it)."""
    total = 0.0
    for _ in range(repeats):
        with app.app_context():
            lookup.cache_clear()
            started = time.process_time()
            lookup(version_id)
            total += time.process_time() - started
    return total / repeats * 1e6


def main() -> int:
    args = parse_args()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="formyard-prof-")))
        database_url = stack.enter_context(forms_bench.fresh_database(args, workdir))
        run(args, database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
