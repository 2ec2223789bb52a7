"""How fast the inbox is on a form with a million submissions, next to one with a thousand.

Builds a fresh database (``flask db upgrade``), creates two forms of nine questions, fills them
with ``flask submissions seed`` (1,000,000 and 1,000 rows by default, timed), then measures
server-side time (the WSGI call in this process, no network) of 20 requests per scenario, the two
forms' requests taken in turns: the first inbox page, a page 10,000 rows deep (following the
cursor, as "Older" links do), a search matching about 1% of rows, three filters (unread, a choice
answer, the last 30 days), and the summary page over 30, 90 and 365 days; wall time (median and
95th percentile) and CPU time per request (this process's and, on PostgreSQL, its database
backend's). Finally a separate process per format exports the whole inbox as CSV, Excel and JSON
Lines; for each it prints rows per second (wall clock, and per CPU second of the process and its
database backend, which tells more when other work shares the machine), the process's peak
memory (VmHWM; the process is signed in by its session cookie, as a browser that signed in
earlier is, so the 64 MiB that argon2 takes to check a password is not in it) and the peak
during the export alone (the high-water mark reset just before it). The load average is printed
at the start and the end: figures taken on a busy machine are not worth comparing.
Then it adds ``--partials`` partial responses (answers kept between a form's pages, 100,000 by
default) to the big form and measures everything again: the inbox, its filters and the exports
read submissions only, so each CPU figure with partials present should match the one without.
It prints figures and checks them against the issue's targets; it is not a test.

    .venv/bin/python bench/inbox_bench.py --database-url sqlite:///instance/inbox-bench.sqlite3
    .venv/bin/python bench/inbox_bench.py --database-url postgresql://postgres@127.0.0.1:5432/inbox_bench

The PostgreSQL database must exist; its public schema is dropped and rebuilt. ``--reuse``
skips building and seeding submissions and measures what is there (partial responses left from
an earlier run are deleted first, and seeded again).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "bench"))

import forms_bench  # noqa: E402 -- a sibling script, found through the path above

BIG, SMALL = "bench-big", "bench-small"
PASSWORD = "bench passphrase that is long enough"  # noqa: S105 -- a throwaway bench account
EMAIL = "bench@example.com"
FIELDS = [
    {"key": "name", "type": "short_text", "label": "Your name", "required": True},
    {"key": "email", "type": "email", "label": "Email", "required": True},
    {
        "key": "size",
        "type": "single_choice",
        "label": "T-shirt size",
        "required": True,
        "rules": {"choices": [{"value": "s", "label": "Small"}, "Medium", "Large"]},
    },
    {
        "key": "topics",
        "type": "multiple_choice",
        "label": "Topics",
        "rules": {"choices": ["Art", "Books", "Cinema", "Dance"]},
    },
    {"key": "age", "type": "number", "label": "Age", "rules": {"kind": "integer", "min": 18}},
    {"key": "stars", "type": "rating", "label": "How was it?", "required": True},
    {"key": "nps", "type": "rating", "label": "Recommend us?", "rules": {"scale": "nps"}},
    {"key": "agree", "type": "consent", "label": "I agree to the terms", "required": True},
    {"key": "message", "type": "long_text", "label": "Message", "required": True},
]
TARGETS_MS = {
    "first page": 50,
    "deep page": 50,
    "search 1%": 150,
    "unread": 50,
    "size is Small": 50,
    "last 30 days": 50,
    "summary 30 days": 1000,
    "summary 90 days": 1000,
    "summary 365 days": 1000,
}
EXPORT_FORMATS = ("csv", "xlsx", "jsonl")
# With partial responses present, each figure may differ from the one without by this much
# (measurement noise on a shared machine) and still count as the same.
FLAT_RATIO = 1.25


def environment(database_url: str) -> dict[str, str]:
    return {**os.environ, "APP_ENV": "testing", "DATABASE_URL": database_url, "FLASK_APP": "wsgi"}


def flask(database_url: str, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "flask", *args],
        cwd=PROJECT_DIR,
        env=environment(database_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def make_app(database_url: str):
    from app import create_app
    from config import normalize_database_url

    url = normalize_database_url(database_url)
    # Quiet request logs: the figures are the output.
    return create_app(
        {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"}
    )


def rebuild(database_url: str) -> None:
    """An empty database at the newest migration, with the owner and the two forms."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        from sqlalchemy import create_engine
        from sqlalchemy import text

        from config import normalize_database_url

        engine = create_engine(normalize_database_url(database_url))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    flask(database_url, "db", "upgrade")
    from app.models import Role
    from app.services import forms
    from app.services.accounts import users

    with make_app(database_url).app_context():
        users.create_user(EMAIL, "Bench", PASSWORD, Role.OWNER)
        for slug in (BIG, SMALL):
            form = forms.create_form(None, title=slug, slug=slug)
            forms.save_fields(form, FIELDS)
            forms.publish(form, None)


def seed(database_url: str, slug: str, count: int) -> float:
    started = time.perf_counter()
    print("  " + flask(database_url, "submissions", "seed", slug, "--count", str(count)))
    return time.perf_counter() - started


def signed_in_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD}
    )
    assert response.status_code in (302, 303), response.status_code
    return client


def session_client(app):
    """A client signed in by its session cookie alone: the export process's memory then shows
    the export, not the 64 MiB that argon2 takes once to check a password at sign-in."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User

    with app.app_context():
        user_id = db.session.scalar(select(User).where(User.email == EMAIL)).get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    return client


def form_and_deep_cursor(app, slug: str, depth: int) -> tuple[int, str]:
    """The form's id, and the cursor of the row ``depth`` rows down the inbox."""
    from sqlalchemy import not_
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Form
    from app.models import Submission
    from app.services.inbox import Cursor

    with app.app_context():
        form = db.session.scalar(select(Form).where(Form.slug == slug))
        row = db.session.execute(
            select(Submission.created_at, Submission.id)
            .where(
                Submission.form_id == form.id,
                not_(Submission.is_spam),
                Submission.deleted_at.is_(None),
            )
            .order_by(Submission.created_at.desc(), Submission.id.desc())
            .offset(depth - 1)
            .limit(1)
        ).one()
        return form.id, str(Cursor(row.created_at, row.id))


def days_ago(days: int) -> str:
    from datetime import date
    from datetime import timedelta

    return (date.today() - timedelta(days=days)).isoformat()


def seed_partials(database_url: str, slug: str, count: int) -> float:
    """``count`` partial responses on the form, as respondents who stopped after a page leave
    them: some answers, updated over the last 30 days, expiring 30 days later, a third with a
    resume link. Inserted in batches in one transaction; the seconds it took."""
    from datetime import timedelta

    from sqlalchemy import delete
    from sqlalchemy import insert
    from sqlalchemy import select
    from sqlalchemy import text

    from app.extensions import db
    from app.models import Form
    from app.models import FormVersion
    from app.models import PartialResponse
    from app.models.types import utcnow
    from app.ops.demo_answers import answerer_for

    started = time.perf_counter()
    with make_app(database_url).app_context():
        form = db.session.scalar(select(Form).where(Form.slug == slug))
        specs = db.session.get(FormVersion, form.published_version_id).specs
        answerers = [(spec.key, make) for spec in specs if (make := answerer_for(spec))]
        db.session.execute(delete(PartialResponse))
        rng, now = random.Random(7), utcnow()  # noqa: S311 -- sample data, not secrets
        batch = []
        for n in range(count):
            answered = answerers[: rng.randint(1, len(answerers))]
            answers = {key: value for key, make in answered if (value := make(rng, n)) is not None}
            updated = now - timedelta(seconds=rng.randrange(30 * 86_400))
            batch.append(
                {
                    "form_id": form.id,
                    "version_id": form.published_version_id,
                    "answers": answers,
                    "path": ["page-1"],
                    "browser_token_hash": hashlib.sha256(f"browser-{n}".encode()).hexdigest(),
                    "resume_token_hash": (
                        hashlib.sha256(f"resume-{n}".encode()).hexdigest() if n % 3 == 0 else None
                    ),
                    "created_at": updated - timedelta(minutes=rng.randrange(60)),
                    "updated_at": updated,
                    "expires_at": updated + timedelta(days=30),
                }
            )
            if len(batch) == 20_000 or n == count - 1:
                db.session.execute(insert(PartialResponse), batch)
                batch = []
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Now, rather than by autovacuum in the middle of the next measurements.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE partial_responses"))
    return time.perf_counter() - started


def timed_get(client, path: str, backends: list[int]) -> tuple[float, float]:
    """Wall milliseconds of one request, and the CPU seconds it cost this process and the
    PostgreSQL backends serving it (``backends``)."""
    cpu_started = time.process_time() + backend_cpu(backends)
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    cpu = time.process_time() + backend_cpu(backends) - cpu_started
    assert response.status_code == 200, (path, response.status_code)
    return elapsed, cpu


def database_backends(app, database_url: str) -> list[int]:
    """The PostgreSQL server process serving this process's pooled connection, which one
    request at a time keeps reusing (none on SQLite, where the database's work is this
    process's own)."""
    if database_url.startswith("sqlite"):
        return []
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.rollback()
        return [pid]


def backend_cpu(pids: list[int]) -> float:
    return sum(forms_bench.cpu_seconds(pid) for pid in pids)


def shown_rows(client, path: str) -> int:
    """Rows the page lists (one warm-up request too)."""
    page = client.get(path).get_data(as_text=True)
    return page.count('<input type="checkbox" name="ids"')


def median_and_p95(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * len(times)) - 1)]


def measure_pages(database_url: str, requests: int) -> dict[str, dict[str, tuple]]:
    """Each scenario on both forms, their requests taken in turns (big, small, big, ...), so
    that whatever else the machine does weighs on both alike: the comparison is the target."""
    app = make_app(database_url)
    client = signed_in_client(app)
    paths: dict[str, dict[str, str]] = {}
    # The small form's deep page is the deepest that still fills a page of 50.
    for slug, depth in ((BIG, 10_000), (SMALL, 900)):
        form_id, cursor = form_and_deep_cursor(app, slug, depth)
        base = f"/forms/{form_id}"
        paths[slug] = {
            "first page": f"{base}/submissions",
            "deep page": f"{base}/submissions?after={cursor}",
            "search 1%": f"{base}/submissions?q=Lisbon",
            "unread": f"{base}/submissions?read=unread",
            "size is Small": f"{base}/submissions?f.size=s",
            "last 30 days": f"{base}/submissions?from={days_ago(30)}",
            "summary 30 days": f"{base}/summary?days=30",
            "summary 90 days": f"{base}/summary?days=90",
            "summary 365 days": f"{base}/summary?days=365",
        }
    results: dict[str, dict[str, tuple]] = {BIG: {}, SMALL: {}}
    for name in paths[BIG]:
        rows = {slug: shown_rows(client, paths[slug][name]) for slug in (BIG, SMALL)}
        backends = database_backends(app, database_url)
        times: dict[str, list[float]] = {BIG: [], SMALL: []}
        cpu = {BIG: 0.0, SMALL: 0.0}
        for _ in range(requests):
            for slug in (BIG, SMALL):
                elapsed, used = timed_get(client, paths[slug][name], backends)
                times[slug].append(elapsed)
                cpu[slug] += used
        for slug in (BIG, SMALL):
            cpu_ms = cpu[slug] * 1000 / requests
            results[slug][name] = (*median_and_p95(times[slug]), rows[slug], cpu_ms)
    for slug in (BIG, SMALL):
        for name, (median, p95, rows, cpu_ms) in results[slug].items():
            figures = (
                f"median {median:8.1f} ms   p95 {p95:8.1f} ms   CPU {cpu_ms:8.1f} ms/req   "
                f"rows {rows}"
            )
            print(f"  {slug:12} {name:17} {figures}")
    return results


def export_in_child(database_url: str, export_format: str) -> dict:
    output = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            __file__,
            "--database-url",
            database_url,
            "--export-only",
            "--export-format",
            export_format,
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def export_file(database_url: str, export_format: str) -> dict:
    """Stream the whole inbox of the big form as a browser would download it."""
    app = make_app(database_url)
    client = session_client(app)
    form_id, _ = form_and_deep_cursor(app, BIG, 1)
    # Read from /proc, not getrusage: a child started by vfork and exec inherits its parent's
    # high-water mark in ru_maxrss, which would count this script's own pages. The reset
    # clears the mark, so the peak before the export is kept first.
    signed_in_peak_mb = peak_memory_since_reset() or 0.0
    backends = database_backends(app, database_url)
    reset_peak_memory()
    started, cpu_started = time.perf_counter(), time.process_time() + backend_cpu(backends)
    response = client.get(f"/forms/{form_id}/submissions/export?format={export_format}")
    size = 0
    for chunk in response.response:
        size += len(chunk)
    seconds = time.perf_counter() - started
    cpu = time.process_time() + backend_cpu(backends) - cpu_started
    return {
        "rows": int(response.headers["X-Export-Rows"]),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "bytes": size,
        "peak_mb": max(signed_in_peak_mb, peak_memory_since_reset() or 0.0),
        "export_peak_mb": peak_memory_since_reset(),
    }


def reset_peak_memory() -> None:
    """Start the kernel's high-water mark of this process's memory again (Linux)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_since_reset() -> float | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--small-count", type=int, default=1_000)
    parser.add_argument(
        "--partials", type=int, default=100_000, help="partial responses for the second pass"
    )
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="measure the existing database")
    parser.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export-format", default="csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        print(json.dumps(export_file(args.database_url, args.export_format)))
        return

    print(f"database: {args.database_url.split('@')[-1]}   load average {load_average()}")
    print(
        f"  {args.count:,} and {args.small_count:,} submissions, then {args.partials:,} partial "
        f"responses; {args.requests} requests per page scenario, in-process (server-side time)"
    )
    if not args.reuse:
        rebuild(args.database_url)
        big = seed(args.database_url, BIG, args.count)
        seed(args.database_url, SMALL, args.small_count)
        print(f"  seeding {args.count:,} rows took {big:.1f} s (command included)")
    else:
        seed_partials(args.database_url, BIG, 0)  # none left from an earlier run
    print("without partial responses:")
    results, exports = measure_all(args)
    seconds = seed_partials(args.database_url, BIG, args.partials)
    print(f"with {args.partials:,} partial responses on {BIG} (seeded in {seconds:.1f} s):")
    with_partials, exports_with = measure_all(args)
    csv_export = exports_with["csv"]
    missed = missed_targets(
        with_partials, csv_export["rows"] / csv_export["seconds"], csv_export["peak_mb"]
    )
    missed += not_flat(results, exports, with_partials, exports_with)
    print("targets: all met" if not missed else "targets missed:\n  " + "\n  ".join(missed))


def measure_all(args) -> tuple[dict, dict]:
    results = measure_pages(args.database_url, args.requests)
    exports = {name: export_in_child(args.database_url, name) for name in EXPORT_FORMATS}
    for name, export in exports.items():
        print(
            f"  {name.upper():5} export: {export['rows']:,} rows in {export['seconds']:.1f} s = "
            f"{export['rows'] / export['seconds']:,.0f} rows/s "
            f"({export['rows'] / export['cpu_seconds']:,.0f} per CPU second), "
            f"{export['bytes'] / 1e6:,.0f} MB, peak RSS {export['peak_mb']:.0f} MB "
            f"(during the export {export['export_peak_mb'] or 0:.0f} MB)"
        )
    print(f"  load average {load_average()}")
    return results, exports


def not_flat(results: dict, exports: dict, with_partials: dict, exports_with: dict) -> list[str]:
    """Each figure on the big form with partial responses against the same without: each
    page's CPU per request, and each export's rows per CPU second. CPU time, not wall time:
    other work on a shared machine stretches wall time far more. It still moves CPU time by
    a fifth or more between passes, so a page's ratio is also divided by the small form's in
    the same two passes: that form has no partial responses and its requests alternate with
    the big form's, so its ratio is the machine's drift (as forms_bench.py divides by the
    hello-world runs around each scenario). A page counts as slower with partials when both
    its ratio and its ratio after the drift pass the limit: the drift of so few requests is
    noisy too, and a change that the partials cause would show in both."""
    missed = []
    print(
        f"with partial responses against without ({BIG}; flat: at most {FLAT_RATIO}x, as it is "
        f"or divided by the drift of {SMALL}, which has none):"
    )
    for name in TARGETS_MS:
        before, after = results[BIG][name][3], with_partials[BIG][name][3]
        ratio, drift = after / before, with_partials[SMALL][name][3] / results[SMALL][name][3]
        wall = f"wall medians {results[BIG][name][0]:.1f} -> {with_partials[BIG][name][0]:.1f} ms"
        print(
            f"  {name:17} CPU {before:7.1f} -> {after:7.1f} ms/req x{ratio:.2f}, "
            f"{SMALL} x{drift:.2f}: x{ratio / drift:.2f}  ({wall})"
        )
        if min(ratio, ratio / drift) > FLAT_RATIO:
            missed.append(
                f"{name}: {after:.1f} ms CPU with partials, {before:.1f} ms without, "
                f"x{ratio / drift:.2f} after the drift x{drift:.2f}"
            )
    for name in EXPORT_FORMATS:
        rate = exports[name]["rows"] / exports[name]["cpu_seconds"]
        rate_with = exports_with[name]["rows"] / exports_with[name]["cpu_seconds"]
        same_rows = exports[name]["rows"] == exports_with[name]["rows"]
        print(
            f"  {name.upper():5} export   {rate:10,.0f} -> {rate_with:10,.0f} rows per CPU s   "
            f"x{rate / rate_with:.2f} CPU per row; rows {exports_with[name]['rows']:,}"
            f" ({'the same' if same_rows else 'NOT the same'})"
        )
        if rate / rate_with > FLAT_RATIO or not same_rows:
            missed.append(
                f"{name} export: {rate_with:,.0f} rows per CPU s with partials, {rate:,.0f} without"
            )
    return missed


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def missed_targets(results: dict, rate: float, peak_mb: float) -> list[str]:
    missed = []
    for name, limit in TARGETS_MS.items():
        median = results[BIG][name][0]
        if median > limit:
            missed.append(f"{name}: median {median:.1f} ms > {limit} ms")
    for name in ("first page", "deep page"):
        big, small = results[BIG][name][0], results[SMALL][name][0]
        if big > 1.5 * small:
            missed.append(f"{name}: {big:.1f} ms at a million is over 1.5x {small:.1f} ms")
    if rate < 100_000:
        missed.append(f"CSV export: {rate:,.0f} rows/s < 100,000")
    if peak_mb > 150:
        missed.append(f"CSV export: peak RSS {peak_mb:.0f} MB > 150 MB")
    return missed


if __name__ == "__main__":
    main()
