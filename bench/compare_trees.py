"""CPU per request of two checkouts of Formyard, side by side: is a change faster?

This machine's CPU speed drifts by a quarter between runs, so comparing a figure from before a
change with one from after it says little. This script serves both checkouts at once, each
with one gunicorn sync worker on a database of its own, sends requests one at a time in
blocks that alternate between them (A B B A A B ...), and prints the CPU milliseconds per
request of each and their ratio, which drift affects alike. With ``--under-load``, each
checkout gets 2 sync workers and its own wrk (16 connections) for that many seconds, both at
once, as in forms_bench.py but sharing the machine: CPU per request under contention (both
cores busy, workers queueing for SQLite's write lock) differs from one request at a time.

    git worktree add /tmp/formyard-before HEAD~1
    .venv/bin/python bench/compare_trees.py /tmp/formyard-before . --method POST
    .venv/bin/python bench/compare_trees.py /tmp/formyard-before . --database postgresql
    .venv/bin/python bench/compare_trees.py /tmp/formyard-before . --under-load 10

Both checkouts run with this checkout's virtualenv.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forms_bench  # a sibling script, found through the path above


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="checkout A")
    parser.add_argument("after", type=Path, help="checkout B")
    parser.add_argument("--method", choices=("GET", "POST"), default="POST")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default=forms_bench.DEFAULT_SERVER_URL)
    parser.add_argument("--rounds", type=int, default=16, help="blocks per checkout")
    parser.add_argument("--block", type=int, default=100, help="requests per block")
    parser.add_argument(
        "--under-load", type=int, metavar="SECONDS", help="wrk on both at once, twice"
    )
    args = parser.parse_args()
    for tree in (args.before, args.after):
        if not (tree / "wsgi.py").is_file():
            parser.error(f"{tree} is not a Formyard checkout (no wsgi.py)")
    if not 2 <= args.rounds <= 200 or not 10 <= args.block <= 10_000:
        parser.error("need --rounds 2..200 and --block 10..10000")
    if args.under_load is not None and not 2 <= args.under_load <= 120:
        parser.error("--under-load takes 2..120 seconds")
    # What forms_bench's helpers expect to find.
    args.workers, args.threads, args.connections, args.warmup = 1, 1, 1, 0
    if args.under_load:
        args.workers, args.connections = 2, 16
    args.log_level, args.repo_gunicorn_conf = "WARNING", False
    return args


def send(port: int, method: str, body: str) -> int:
    """One request on a connection of its own, as a browser's post is; the status code."""
    path = f"/f/{forms_bench.FORM_SLUG}"
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if method == "POST":
        head += "Content-Type: application/x-www-form-urlencoded\r\n"
        head += f"Content-Length: {len(body.encode())}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall((head + "\r\n" + (body if method == "POST" else "")).encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer[9:12])


def serve(stack: contextlib.ExitStack, args, tree: Path, name: str):
    """Migrate a fresh database with ``tree``'s code, import the form, start gunicorn."""
    import tempfile

    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"formyard-{name}-")))
    database_url = stack.enter_context(forms_bench.fresh_database(args, workdir))
    env = forms_bench.app_environment(database_url, args)
    repo_root = forms_bench.REPO_ROOT
    forms_bench.REPO_ROOT = tree.resolve()  # run_python and the form import work from here
    try:
        forms_bench.run_python(env, "-m", "flask", "--app", "wsgi", "db", "upgrade")
        forms_bench.create_bench_form(env, workdir)
    finally:
        forms_bench.REPO_ROOT = repo_root
    port = stack.enter_context(
        forms_bench.gunicorn("formyard", "wsgi:app", tree.resolve(), env, args, workdir)
    )
    meter = forms_bench.CpuMeter(workdir / "formyard.pid", forms_bench.postgres(args, database_url))
    return port, meter


def expected_status(method: str) -> int:
    return 303 if method == "POST" else 200


def check_answers(which: int, result: dict, expected: int) -> None:
    """A checkout that answers anything else (a 500, say) is broken, not fast: stop."""
    statuses = result["statuses"].items()
    wrong = {status: count for status, count in statuses if int(status) != expected}
    failed = {kind: count for kind, count in result["errors"].items() if count}
    if wrong or failed:
        raise SystemExit(
            f"checkout {'AB'[which]} under load: statuses other than {expected}: {wrong}, "
            f"socket errors: {failed}"
        )


def one_at_a_time(args, servers) -> tuple[list[float], list[float], list[int]]:
    """Blocks of requests sent one by one, alternating A B B A ...; CPU and answers each."""
    expected = expected_status(args.method)
    body = forms_bench.post_body()
    app_cpu, db_cpu, answered = [0.0, 0.0], [0.0, 0.0], [0, 0]
    for round_number in range(args.rounds):
        order = (0, 1) if round_number % 2 == 0 else (1, 0)
        for which in order:
            port, meter = servers[which]
            before = meter.snapshot()
            for number in range(args.block):
                tagged = body.replace("BENCHTAG", f"r{round_number}-{number}")
                status = send(port, args.method, tagged)
                if status != expected:
                    raise SystemExit(f"checkout {'AB'[which]} answered {status}")
            after = meter.snapshot()
            app_cpu[which] += forms_bench.cpu_delta(before["server"], after["server"])
            if "db" in after:
                db_cpu[which] += forms_bench.cpu_delta(before["db"], after["db"])
            answered[which] += args.block
    return app_cpu, db_cpu, answered


def both_loaded(args, servers) -> tuple[list[float], list[float], list[int]]:
    """wrk against both checkouts at the same time, twice; CPU and answers each."""
    import threading

    path = f"/f/{forms_bench.FORM_SLUG}"
    body = forms_bench.post_body() if args.method == "POST" else ""
    app_cpu, db_cpu, answered = [0.0, 0.0], [0.0, 0.0], [0, 0]
    for repeat in range(2):
        results: dict[int, dict] = {}
        before = [meter.snapshot() for _, meter in servers]

        def load(which: int, port: int, results=results, repeat: int = repeat) -> None:
            tag = f"load{repeat}{'ab'[which]}"
            results[which] = forms_bench.run_wrk(
                port, args.method, path, args.under_load, tag, args, body
            )

        loaders = [
            threading.Thread(target=load, args=(which, port))
            for which, (port, _) in enumerate(servers)
        ]
        for loader in loaders:
            loader.start()
        for loader in loaders:
            loader.join()
        for which, (_, meter) in enumerate(servers):
            check_answers(which, results[which], expected_status(args.method))
            after = meter.snapshot()
            app_cpu[which] += forms_bench.cpu_delta(before[which]["server"], after["server"])
            if "db" in after:
                db_cpu[which] += forms_bench.cpu_delta(before[which]["db"], after["db"])
            answered[which] += results[which]["requests"]
    return app_cpu, db_cpu, answered


def main() -> int:
    args = parse_args()
    body = forms_bench.post_body()
    with contextlib.ExitStack() as stack:
        servers = [
            serve(stack, args, tree, name) for tree, name in ((args.before, "a"), (args.after, "b"))
        ]
        for which, (port, _) in enumerate(servers):  # warm both: imports, caches, statements
            for number in range(50):
                status = send(port, args.method, body.replace("BENCHTAG", f"warm-{number}"))
                if status != expected_status(args.method):
                    raise SystemExit(f"checkout {'AB'[which]} answered {status}")
        measure = both_loaded if args.under_load else one_at_a_time
        app_cpu, db_cpu, answered = measure(args, servers)
    how = f"wrk on both for 2 x {args.under_load} s" if args.under_load else "one at a time"
    print(f"{args.method} /f/{forms_bench.FORM_SLUG} on {args.database}, {how}:")
    for which, tree in enumerate((args.before, args.after)):
        app_ms = app_cpu[which] * 1000 / answered[which]
        db_ms = db_cpu[which] * 1000 / answered[which]
        rate = f", {answered[which] / (2 * args.under_load):.0f} req/s" if args.under_load else ""
        print(f"  {'AB'[which]} {tree}: app {app_ms:.3f} ms/req, db {db_ms:.3f} ms/req{rate}")
    print(
        f"B / A, app CPU per request: {app_cpu[1] / answered[1] / (app_cpu[0] / answered[0]):.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
