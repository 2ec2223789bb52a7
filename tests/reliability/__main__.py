"""``python -m tests.reliability``: run the scenarios, one line each; exit 1 when any failed."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.reliability.scenarios import SCENARIOS
from tests.reliability.scenarios import Settings
from tests.reliability.scenarios import Suite
from tests.reliability.servers import missing_programs

SHORT_SECONDS = 6.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability", description=__doc__)
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("RELIABILITY_SECONDS", "60")),
        help="length of each scenario's load (default 60, or RELIABILITY_SECONDS)",
    )
    parser.add_argument(
        "--short", action="store_true", help=f"{SHORT_SECONDS:.0f} s per scenario, as in CI"
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--only", default="".join(SCENARIOS), help="scenarios to run, e.g. 'ac' (default all)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds = SHORT_SECONDS
    unknown = set(args.only) - set(SCENARIOS)
    if unknown or not 3 <= args.seconds <= 3600 or not 1 <= args.clients <= 500:
        parser.error("need --only among a-f, --seconds 3..3600 and --clients 1..500")
    return args


def settings_for(args: argparse.Namespace) -> Settings:
    short = args.seconds < 30
    return Settings(
        seconds=args.seconds,
        clients=args.clients,
        workers=args.workers,
        drain_seconds=30.0 if short else 120.0,
    )


def interrupt_on_signals() -> None:
    """Ctrl-C and SIGTERM stop the run through its ``finally``, which stops every server; SIGINT
    too where a shell started us in the background with it ignored."""

    def interrupt(_signum, _frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_programs()
    if missing:
        print(f"reliability: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    interrupt_on_signals()
    workdir = Path(tempfile.mkdtemp(prefix="formyard-reliability-"))
    suite = Suite(settings_for(args), workdir)
    print(f"reliability: load average {os.getloadavg()[0]:.2f}; logs in {workdir}", flush=True)
    failed = False
    try:
        suite.start()
        for name in args.only:
            started = time.monotonic()
            result = SCENARIOS[name](suite)
            print(f"{result.line()}  [{time.monotonic() - started:.0f}s]", flush=True)
            failed = failed or not result.passed
    except KeyboardInterrupt:
        print("reliability: interrupted; stopping what it started", file=sys.stderr)
        failed = True
    finally:
        suite.stop()
        print(f"reliability: load average {os.getloadavg()[0]:.2f}", flush=True)
        if args.keep or failed:
            print(f"reliability: logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
