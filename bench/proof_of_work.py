"""What proof of work costs the server: making a challenge (each widget fetches one) and
verifying a solution (each post that carries one), with the parameters the app uses.

    python bench/proof_of_work.py [rounds]

Solutions are made here once (in Python, slower than a browser's Web Crypto); the browser's
solve time is measured by tests/browser/test_spam.py in headless Chromium.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import altcha

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services.spam import proof_of_work

SECRET = "bench-secret"  # noqa: S105 (a throwaway key for the figures)


def challenge() -> altcha.Challenge:
    return altcha.create_challenge(
        proof_of_work.ALGORITHM,
        proof_of_work.COST,
        key_prefix=proof_of_work.KEY_PREFIX,
        expires_at=int(time.time()) + 3600,
        data={"form": 1},
        hmac_secret=SECRET,
    )


def timed(action, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(rounds: int) -> None:
    created = timed(challenge, rounds)
    solve_start = time.perf_counter()
    payloads = []
    for _ in range(min(rounds, 20)):
        made = challenge()
        payloads.append(altcha.Payload(made, altcha.solve_challenge(made)).to_base64())
    solve_ms = (time.perf_counter() - solve_start) * 1000 / len(payloads)
    verified = timed(lambda: altcha.verify_solution(payloads[0], SECRET), rounds)
    assert altcha.verify_solution(payloads[0], SECRET).verified
    print(
        f"{proof_of_work.ALGORITHM}, {proof_of_work.COST} iterations, "
        f"key prefix {proof_of_work.KEY_PREFIX!r}"
    )
    print(f"create challenge: median {statistics.median(created):.3f} ms")
    print(
        f"verify solution:  median {statistics.median(verified):.3f} ms, "
        f"p99 {sorted(verified)[int(len(verified) * 0.99) - 1]:.3f} ms"
    )
    print(f"solve in Python:  mean {solve_ms:.0f} ms over {len(payloads)} challenges")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
