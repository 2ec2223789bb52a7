"""Where gunicorn workers spend their time under load: py-spy samples of GET or POST /f/<slug>.

Serves Formyard as bench/forms_bench.py does, loads one scenario with wrk, samples both workers
with py-spy (idle time included, so waiting on the database shows), and prints the share of
samples per function: self (the innermost frame) and inclusive. py-spy is not a requirement;
install it anywhere, e.g. ``python3 -m venv /tmp/spy && /tmp/spy/bin/pip install py-spy``.

    .venv/bin/python bench/spy_form.py --method POST --py-spy /tmp/spy/bin/py-spy
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forms_bench  # a sibling script, found through the path above

# Frames every worker stack has; they say nothing about where a request's time goes.
PLUMBING = ("<module>", "runpy", "Arbiter", "SyncWorker.run", "init_process", "spawn_worker")
PLUMBING += ("manage_workers", "_run_code", "BaseApplication", "Application.run", "run (gunicorn")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", choices=("GET", "POST"), default="POST")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default=forms_bench.DEFAULT_SERVER_URL)
    parser.add_argument("--duration", type=int, default=10, help="seconds sampled, 2..120")
    parser.add_argument("--py-spy", dest="py_spy", default="py-spy")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--raw", type=Path, help="also keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    if not 2 <= args.duration <= 120:
        parser.error("--duration must be 2..120 seconds")
    # What forms_bench's helpers expect to find.
    args.workers, args.threads, args.connections, args.warmup = 2, 1, 16, 2
    args.log_level, args.repo_gunicorn_conf = "WARNING", False
    return args


def sample(args, port: int, workdir: Path, raw_path: Path) -> dict:
    """Run wrk in a thread and py-spy meanwhile; returns wrk's figures."""
    path = f"/f/{forms_bench.FORM_SLUG}"
    body = forms_bench.post_body() if args.method == "POST" else ""
    forms_bench.run_wrk(port, args.method, path, 2, "spy-warm", args, body)
    result: dict = {}

    def load() -> None:
        result.update(
            forms_bench.run_wrk(port, args.method, path, args.duration + 1, "spy", args, body)
        )

    loader = threading.Thread(target=load)
    loader.start()
    time.sleep(0.5)
    command = [
        args.py_spy,
        "record",
        "-p",
        (workdir / "formyard.pid").read_text().strip(),
        "--subprocesses",
        "--idle",
    ]
    command += ["-r", "250", "-d", str(args.duration), "-f", "raw", "-o", str(raw_path)]
    subprocess.run(command, capture_output=True, check=True)  # noqa: S603 (our own arguments)
    loader.join()
    return result


def function_of(frame: str) -> str:
    match = re.match(r"(.*) \((.*?):\d+\)$", frame)
    return f"{match.group(1)} ({match.group(2)})" if match else frame


def summarize(raw_path: Path, top: int) -> None:
    states: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for line in raw_path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("SyncWorker" in frame for frame in frames):
            continue  # the master
        if not any("handle_request" in frame for frame in frames):
            idle = any("SyncWorker.wait" in frame for frame in frames)
            states["waiting for a connection" if idle else "accept, read, parse"] += int(count)
            continue
        states["handling a request"] += int(count)
        names = [function_of(f) for f in frames if not f.startswith(("process ", "thread "))]
        own[names[-1]] += int(count)
        for name in set(names):
            inclusive[name] += int(count)
    total, busy = sum(states.values()), states["handling a request"]
    print(f"worker samples: {total}")
    for state, count in states.most_common():
        print(f"  {state}: {100 * count / total:.1f}%")
    print(f"\nself time, % of samples handling a request ({busy}):")
    for name, count in own.most_common(top):
        print(f"  {100 * count / busy:5.1f}%  {name[:140]}")
    print("\ninclusive time, % of samples handling a request:")
    shown = [(n, c) for n, c in inclusive.most_common() if not any(p in n for p in PLUMBING)]
    for name, count in shown[: top * 2]:
        print(f"  {100 * count / busy:5.1f}%  {name[:140]}")


def main() -> int:
    args = parse_args()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="formyard-spy-")))
        database_url = stack.enter_context(forms_bench.fresh_database(args, workdir))
        env = forms_bench.app_environment(database_url, args)
        forms_bench.run_python(env, "-m", "flask", "--app", "wsgi", "db", "upgrade")
        forms_bench.create_bench_form(env, workdir)
        target = ("formyard", "wsgi:app", forms_bench.REPO_ROOT, env, args, workdir)
        port = stack.enter_context(forms_bench.gunicorn(*target))
        raw_path = args.raw or workdir / "stacks.txt"
        result = sample(args, port, workdir, raw_path)
        rate = result["in_window"] / (args.duration + 1)
        print(f"{args.method} /f/{forms_bench.FORM_SLUG} on {args.database}: {rate:.1f} req/s")
        print(f"statuses {result['statuses']}, load average {forms_bench.load_average()}\n")
        summarize(raw_path, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
