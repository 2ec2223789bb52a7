"""How fast the inbox is on a form with a million submissions, next to one with a thousand.

Builds a fresh database (``flask db upgrade``), creates two forms of nine questions, fills them
with ``flask submissions seed`` (1,000,000 and 1,000 rows by default, timed), then measures
server-side time (the WSGI call in this process, no network) of 20 requests per scenario, the two
forms' requests taken in turns:
the first inbox page, a page 10,000 rows deep (following the cursor, as "Older" links do), a
search matching about 1% of rows, and the summary page over 30, 90 and 365 days. Finally a
separate process per format exports the whole inbox as CSV, Excel and JSON Lines; for each it
prints rows per second (wall clock, and per second of the process's own CPU, which tells more
when other work shares the machine), the process's peak memory (VmHWM; the process is signed in by
its session cookie, as a browser that signed in earlier is, so the 64 MiB that argon2 takes to
check a password is not in it) and the peak during the export alone (the high-water mark reset
just before it). The load average is printed at the start and
the end: figures taken on a busy machine are not worth comparing.
It prints figures and checks them against the issue's targets; it is not a test.

    .venv/bin/python bench/inbox_bench.py --database-url sqlite:///instance/inbox-bench.sqlite3
    .venv/bin/python bench/inbox_bench.py --database-url postgresql://postgres@127.0.0.1:5432/inbox_bench

The PostgreSQL database must exist; its public schema is dropped and rebuilt. ``--reuse``
skips building and seeding and measures what is there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

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
    "summary 30 days": 1000,
    "summary 90 days": 1000,
    "summary 365 days": 1000,
}
EXPORT_FORMATS = ("csv", "xlsx", "jsonl")


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


def timed_get(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


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
            "summary 30 days": f"{base}/summary?days=30",
            "summary 90 days": f"{base}/summary?days=90",
            "summary 365 days": f"{base}/summary?days=365",
        }
    results: dict[str, dict[str, tuple]] = {BIG: {}, SMALL: {}}
    for name in paths[BIG]:
        rows = {slug: shown_rows(client, paths[slug][name]) for slug in (BIG, SMALL)}
        times: dict[str, list[float]] = {BIG: [], SMALL: []}
        for _ in range(requests):
            for slug in (BIG, SMALL):
                times[slug].append(timed_get(client, paths[slug][name]))
        for slug in (BIG, SMALL):
            results[slug][name] = (*median_and_p95(times[slug]), rows[slug])
    for slug in (BIG, SMALL):
        for name, (median, p95, rows) in results[slug].items():
            figures = f"median {median:8.1f} ms   p95 {p95:8.1f} ms   rows {rows}"
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
    reset_peak_memory()
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(f"/forms/{form_id}/submissions/export?format={export_format}")
    size = 0
    for chunk in response.response:
        size += len(chunk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
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
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="measure the existing database")
    parser.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export-format", default="csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        print(json.dumps(export_file(args.database_url, args.export_format)))
        return

    print(f"database: {args.database_url.split('@')[-1]}   load average {load_average()}")
    if not args.reuse:
        rebuild(args.database_url)
        big = seed(args.database_url, BIG, args.count)
        seed(args.database_url, SMALL, args.small_count)
        print(f"  seeding {args.count:,} rows took {big:.1f} s (command included)")
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
    csv_export = exports["csv"]
    report_targets(results, csv_export["rows"] / csv_export["seconds"], csv_export["peak_mb"])


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def report_targets(results: dict, rate: float, peak_mb: float) -> None:
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
    print("targets: all met" if not missed else "targets missed:\n  " + "\n  ".join(missed))


if __name__ == "__main__":
    main()
