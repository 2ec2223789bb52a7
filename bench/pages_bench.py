"""CPU per request of a form with three pages, next to the same questions on one page.

Imports two published forms with the same questions (``--questions``, the ten types of
bench/forms_bench.py in turn, every one required): one on a single page, one split by page
breaks into three pages. Serves Formyard with gunicorn (sync workers) as forms_bench.py does,
then drives respondents through both as a browser without JavaScript does, one request at a
time: the single-page form is a GET and a POST; the paged one a GET of page 1, its POST (303 to
page 2, with the cookie that keeps the answers so far), a GET of page 2, its POST, a GET of page
3 and the final POST (303 to the thanks page). Every post sends the page's own ``_token`` and
``_page``, as the browser would.

Requests go in blocks of one kind (``--block`` respondents each), and the CPU time that the
gunicorn processes (app) and, on PostgreSQL, the database backends serving them (db) spend on a
block, divided by its requests, is the figure: other work on this shared machine changes wall
time far more than CPU time per request. Each round measures every block once, the two forms in
alternating order; the ratios to the single-page POST are taken within a round and their median
over rounds is checked against the targets: every page's POST at most 1.3x the single-page
POST, the final POST at most 1.5x. Last, it checks that every respondent left exactly one
submission with every answer and no partial response. Exit code 1 when a target is missed.

    .venv/bin/python bench/pages_bench.py --database sqlite
    .venv/bin/python bench/pages_bench.py --database postgresql --rounds 7
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forms_bench  # a sibling script, found through the path above

SINGLE, PAGED = "bench-one-page", "bench-three-pages"
PAGES = ("first", "second", "third")
TARGETS = {"POST page 1": 1.3, "POST page 2": 1.3, "POST page 3 (final)": 1.5}
HIDDEN_RE = re.compile(r'<input type="hidden" name="(_token|_page)" value="([^"]*)"')
COOKIE_RE = re.compile(r"(formyard_partial_\d+)=([^;]+)")
BASE_URL = "http://127.0.0.1"  # the host TRUSTED_HOSTS allows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", forms_bench.DEFAULT_SERVER_URL),
        help="PostgreSQL server to create the throwaway database on",
    )
    parser.add_argument("--questions", type=int, default=12, help="3..60, split in three pages")
    parser.add_argument("--block", type=int, default=200, help="respondents per block")
    parser.add_argument("--rounds", type=int, default=5, help="medians over rounds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--log-level", default="WARNING", help="Formyard's LOG_LEVEL")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="also list each request's database round trips (in this process, after the runs)",
    )
    args = parser.parse_args()
    if not 3 <= args.questions <= 60 or not 20 <= args.block <= 5000:
        parser.error("need --questions 3..60 and --block 20..5000")
    if not 1 <= args.rounds <= 50 or not 1 <= args.workers <= 16:
        parser.error("need --rounds 1..50 and --workers 1..16")
    # What forms_bench's helpers expect to find.
    args.repo_gunicorn_conf, args.ratelimit_storage = False, "formyard-memory://"
    return args


# --- the two forms ----------------------------------------------------------------------------


def questions(count: int) -> list[tuple[dict, list[str]]]:
    """``count`` required questions, the ten types of forms_bench.py in turn; with answers."""
    made = []
    for number in range(count):
        key, type_name, rules, answers = forms_bench.FIELDS[number % len(forms_bench.FIELDS)]
        key = f"{key}_{number + 1}"
        spec = {"key": key, "type": type_name, "label": key, "required": True, "rules": rules}
        made.append((spec, answers))
    return made


def split_in_three(items: list) -> list[list]:
    size, extra = divmod(len(items), 3)
    bounds = [0]
    for page in range(3):
        bounds.append(bounds[-1] + size + (1 if page < extra else 0))
    return [items[bounds[page] : bounds[page + 1]] for page in range(3)]


def import_forms(env: dict[str, str], workdir: Path, count: int) -> None:
    specs = [spec for spec, _ in questions(count)]
    paged = []
    for page_id, page_specs in zip(PAGES, split_in_three(specs), strict=True):
        paged += [{"key": page_id, "type": "page", "label": f"The {page_id} page"}, *page_specs]
    for slug, fields in ((SINGLE, specs), (PAGED, paged)):
        definition = {
            "formyard": 1,
            "slug": slug,
            "title": slug,
            "kind": "built",
            "status": "open",
            "fields": fields,
        }
        path = workdir / f"{slug}.json"
        path.write_text(json.dumps(definition))
        forms_bench.run_python(env, "-m", "flask", "--app", "wsgi", "forms", "import", str(path))


def answer_pairs(count: int, respondent: str) -> list[list[tuple[str, str]]]:
    """The answers of each of the three pages; the first text question carries the tag."""
    pairs = []
    for spec, answers in questions(count):
        values = [respondent if value == "BENCHTAG" else value for value in answers]
        pairs.append([(spec["key"], value) for value in values])
    return [[pair for question in page for pair in question] for page in split_in_three(pairs)]


# --- a respondent, as a browser without JavaScript ----------------------------------------------


class UnexpectedAnswer(SystemExit):
    pass


@dataclass
class Respondent:
    tag: str
    pages: list[list[tuple[str, str]]]
    hidden: dict[str, str] = field(default_factory=dict)  # the last page's _token and _page
    cookie: str = ""  # name=value of the partial's cookie
    next_path: str = ""

    def get(self, port: int, path: str) -> None:
        status, _, body = request(port, "GET", path, cookie=self.cookie)
        expect(status, 200, "GET", path, body)
        self.hidden = dict(HIDDEN_RE.findall(body))

    def post(self, port: int, slug: str, answers: list[tuple[str, str]], location: str) -> None:
        body = urlencode([*self.hidden.items(), ("_gotcha", ""), *answers])
        status, headers, page = request(port, "POST", f"/f/{slug}", body, self.cookie)
        expect(status, 303, "POST", f"/f/{slug} ({self.hidden.get('_page', 'one page')})", page)
        if not headers.get("location", "").endswith(location):
            raise UnexpectedAnswer(f"POST led to {headers.get('location')}, not {location}")
        if cookie := COOKIE_RE.search(headers.get("set-cookie", "")):
            self.cookie = f"{cookie.group(1)}={cookie.group(2)}"


def request(
    port: int, method: str, path: str, body: str | None = None, cookie: str = ""
) -> tuple[int, dict[str, str], str]:
    """One request on a connection of its own, as a sync worker serves it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer_headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def expect(status: int, expected: int, method: str, path: str, body: str) -> None:
    if status != expected:
        raise UnexpectedAnswer(f"{method} {path} answered {status}, not {expected}:\n{body[:2000]}")


# --- the blocks ---------------------------------------------------------------------------------

Step = tuple[str, Callable[[Respondent, int], None]]


def single_page_steps() -> list[Step]:
    return [
        ("GET one page", lambda r, port: r.get(port, f"/f/{SINGLE}")),
        (
            "POST one page",
            lambda r, port: r.post(port, SINGLE, [a for p in r.pages for a in p], "/thanks"),
        ),
    ]


def paged_steps() -> list[Step]:
    slug = PAGED
    return [
        ("GET page 1", lambda r, port: r.get(port, f"/f/{slug}")),
        ("POST page 1", lambda r, port: r.post(port, slug, r.pages[0], f"/p/{PAGES[1]}")),
        ("GET page 2", lambda r, port: r.get(port, f"/f/{slug}/p/{PAGES[1]}")),
        ("POST page 2", lambda r, port: r.post(port, slug, r.pages[1], f"/p/{PAGES[2]}")),
        ("GET page 3", lambda r, port: r.get(port, f"/f/{slug}/p/{PAGES[2]}")),
        ("POST page 3 (final)", lambda r, port: r.post(port, slug, r.pages[2], "/thanks")),
    ]


def run_blocks(
    steps: list[Step], respondents: list[Respondent], port: int, meter: forms_bench.CpuMeter
) -> dict[str, dict[str, float]]:
    """Each step for every respondent in turn, one block per step; CPU ms per request."""
    figures = {}
    for name, step in steps:
        before = meter.snapshot()
        for respondent in respondents:
            step(respondent, port)
        after = meter.snapshot()
        figures[name] = {
            kind: forms_bench.cpu_delta(before[kind], after[kind]) * 1000 / len(respondents)
            for kind in after
        }
    return figures


def measure_round(args, number: int, port: int, meter) -> dict[str, dict[str, float]]:
    def crowd(form: str) -> list[Respondent]:
        return [
            Respondent(tag, answer_pairs(args.questions, tag))
            for tag in (f"r{number}-{form}-{n}" for n in range(args.block))
        ]

    order = [(single_page_steps(), "one"), (paged_steps(), "paged")]
    if number % 2:
        order.reverse()
    figures = {}
    for steps, form in order:
        figures.update(run_blocks(steps, crowd(form), port, meter))
    return figures


# --- database round trips, in this process ------------------------------------------------------


class TestClientRespondent(Respondent):
    """The same respondent through Flask's test client, for the statement log."""

    client = None

    def get(self, port: int, path: str) -> None:
        response = self.client.get(path, base_url=BASE_URL)
        body = response.get_data(as_text=True)
        expect(response.status_code, 200, "GET", path, body)
        self.hidden = dict(HIDDEN_RE.findall(body))

    def post(self, port: int, slug: str, answers: list[tuple[str, str]], location: str) -> None:
        body = urlencode([*self.hidden.items(), ("_gotcha", ""), *answers])
        response = self.client.post(
            f"/f/{slug}",
            base_url=BASE_URL,
            data=body,
            content_type="application/x-www-form-urlencoded",
        )
        expect(response.status_code, 303, "POST", f"/f/{slug}", response.get_data(as_text=True))
        if not response.headers.get("Location", "").endswith(location):
            raise UnexpectedAnswer(f"POST led to {response.headers.get('Location')}")


def show_statements(args, env: dict[str, str]) -> None:
    """Each request's round trips to the database (statements, BEGIN, COMMIT, ROLLBACK), for
    one respondent per form after a warm-up, with profile_form.py's statement log."""
    import profile_form

    os.environ.update(env)
    sys.path.insert(0, str(forms_bench.REPO_ROOT))
    from app import create_app
    from app.extensions import db

    app = create_app()
    with app.app_context():
        engine = db.engine
    log = profile_form.StatementLog()
    for number in range(3):  # the last one is logged; the others warm caches and connections
        for steps, form in ((single_page_steps(), "one"), (paged_steps(), "paged")):
            tag = f"s{number}-{form}"
            respondent = TestClientRespondent(tag, answer_pairs(args.questions, tag))
            respondent.client = app.test_client()
            for name, step in steps:
                with log.listening(engine):
                    log.take()
                    step(respondent, 0)
                    statements = log.take()
                if number == 2:
                    kinds = " ".join(statement.split()[0].upper() for statement in statements)
                    print(f"  {name:<20} {len(statements)} round trips: {kinds}")
    from app.services.forms.view_counts import flush_views

    with app.app_context():
        flush_views()  # now, while the database is there, not when the process exits
        db.engine.dispose()


# --- checks and report -------------------------------------------------------------------------


def stored_counts(env: dict[str, str]) -> dict[str, object]:
    from sqlalchemy import create_engine
    from sqlalchemy import text

    url = env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    query = text(
        "SELECT f.slug, count(s.id), f.submission_count FROM forms AS f "
        "LEFT JOIN submissions AS s ON s.form_id = f.id GROUP BY f.slug, f.submission_count"
    )
    try:
        with engine.connect() as connection:
            counts = {slug: (rows, counter) for slug, rows, counter in connection.execute(query)}
            partials = connection.execute(text("SELECT count(*) FROM partial_responses")).scalar()
            answers = connection.execute(
                text(
                    "SELECT s.answers FROM submissions AS s JOIN forms AS f ON f.id = s.form_id "
                    "WHERE f.slug = :slug ORDER BY s.id DESC LIMIT 1"
                ),
                {"slug": PAGED},
            ).scalar()
    finally:
        engine.dispose()
    return {"counts": counts, "partials": partials, "last_paged": forms_bench._answers(answers)}


def check_stored(args, env: dict[str, str], respondents: int) -> tuple[bool, str]:
    stored = stored_counts(env)
    single, paged = stored["counts"].get(SINGLE), stored["counts"].get(PAGED)
    last = stored["last_paged"]
    expected_keys = {spec["key"] for spec, _ in questions(args.questions)}
    ok = (
        single == (respondents, respondents)
        and paged == (respondents, respondents)
        and stored["partials"] == 0
        and set(last) == expected_keys
    )
    line = (
        f"respondents per form {respondents}; one-page form: rows, submission_count {single}; "
        f"paged form: {paged}; partial responses left {stored['partials']}; the last paged "
        f"submission holds {len(last)} of {len(expected_keys)} answers: {'PASS' if ok else 'FAIL'}"
    )
    return ok, line


def total(figure: dict[str, float]) -> float:
    return sum(figure.values())


def report(rounds: list[dict[str, dict[str, float]]]) -> bool:
    names = [name for steps in (single_page_steps(), paged_steps()) for name, _ in steps]
    kinds = list(rounds[0][names[0]])
    base = "POST one page"
    header = f"{'request':<22}" + "".join(f"{kind + ' ms':>10}" for kind in kinds)
    print(header + f"{'total ms':>10}  x POST one page (rounds)  target")
    print("-" * (len(header) + 40))
    passed = True
    for name in names:
        cells = "".join(
            f"{statistics.median(r[name][kind] for r in rounds):>10.3f}" for kind in kinds
        )
        ratios = sorted(total(r[name]) / total(r[base]) for r in rounds)
        ratio = statistics.median(ratios)
        whole = statistics.median(total(r[name]) for r in rounds)
        verdict = ""
        if name in TARGETS:
            ok = ratio <= TARGETS[name]
            passed &= ok
            verdict = f"<= {TARGETS[name]}x: {'PASS' if ok else 'FAIL'}"
        spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
        print(f"{name:<22}{cells}{whole:>10.3f}{ratio:>8.2f} ({spread})  {verdict}")
    print(
        "\nCPU milliseconds per request, medians over rounds: the gunicorn processes (server) "
        "and the PostgreSQL backends serving them (db). The ratio is taken within each round "
        "and its median shown, with the lowest and highest round in brackets: CPU time per "
        "request is steady on a machine shared with other work, where wall time and requests "
        "per second are not."
    )
    return passed


def print_settings(args, database_url: str) -> None:
    shown = database_url if args.database == "sqlite" else database_url.split("@")[-1]
    per_page = [len(page) for page in split_in_three(list(range(args.questions)))]
    print(f"Formyard three-page form benchmark: {args.database} ({shown})")
    print(f"  machine: {os.cpu_count()} CPUs, load average {forms_bench.load_average()}")
    print(
        f"  gunicorn -w {args.workers} -k sync on 127.0.0.1, no config file; APP_ENV=production "
        f'LOG_LEVEL={args.log_level.upper()} SUBMISSION_RATE_LIMIT="{forms_bench.RATE_LIMIT}"'
    )
    print(
        f"  forms: /f/{SINGLE} ({args.questions} required questions on one page) and "
        f"/f/{PAGED} (the same, pages of {'/'.join(map(str, per_page))})"
    )
    print(
        f"  {args.rounds} rounds of {args.block} respondents per form, one request at a time, "
        "each block timed by the server processes' CPU time\n"
    )


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks run
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="formyard-pages-")))
        database_url = stack.enter_context(forms_bench.fresh_database(args, workdir))
        env = forms_bench.app_environment(database_url, args)
        print_settings(args, database_url)
        forms_bench.run_python(env, "-m", "flask", "--app", "wsgi", "db", "upgrade")
        import_forms(env, workdir, args.questions)
        port = stack.enter_context(
            forms_bench.gunicorn("formyard", "wsgi:app", forms_bench.REPO_ROOT, env, args, workdir)
        )
        meter = forms_bench.CpuMeter(
            workdir / "formyard.pid", forms_bench.postgres(args, database_url)
        )
        measure_round(args, 0, port, meter)  # warm-up: imports, caches, statements
        rounds = [measure_round(args, n, port, meter) for n in range(1, args.rounds + 1)]
        passed = report(rounds)
        stored_ok, line = check_stored(args, env, args.block * (args.rounds + 1))
        print(f"\nStored: {line}")
        print("\nServer log:")
        forms_bench.print_server_logs(workdir, args.workers, ("formyard",))
        if args.statements:
            print("\nDatabase round trips per request (one respondent, in this process):")
            show_statements(args, env)
    print(f"\nLoad average at the end: {forms_bench.load_average()}")
    passed &= stored_ok
    print(f"Overall: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
