"""The load generator: clients posting the public form over raw HTTP/1.1 on asyncio streams.

Each request carries a unique tag in its ``name`` answer, so what a client was told can be
matched to the rows stored. Clients do not retry: a request either got an answer (its status
is recorded) or did not (a connection error or a timeout: its fate is unknown to the client).
gunicorn's sync workers close the connection after every answer, so each request opens one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlencode

ACKNOWLEDGED = frozenset({200, 201, 303})
REQUEST_TIMEOUT = 30.0  # gunicorn's own worker timeout: an answer later than this will not come
NO_ANSWER = 0  # the status recorded when the connection failed or timed out


@dataclass(frozen=True)
class Outcome:
    tag: str
    status: int  # NO_ANSWER when none came
    started: float  # seconds since the load began
    latency: float
    retry_after: bool = False
    excerpt: str = ""  # the start of the body of a 5xx, or the connection error


@dataclass
class Load:
    """Where to post and how hard: ``clients`` at once for ``seconds``; ``rate`` caps the
    requests per second of all clients together (None: as fast as answers come)."""

    port: int
    slug: str
    tag_prefix: str
    clients: int
    seconds: float
    rate: float | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def acknowledged(self) -> set[str]:
        return {o.tag for o in self.outcomes if o.status in ACKNOWLEDGED}


def body_for(tag: str) -> bytes:
    return urlencode({"name": tag, "email": "load@example.com", "message": "reliability"}).encode()


def request_bytes(port: int, slug: str, body: bytes, tag: str) -> bytes:
    head = (
        f"POST /f/{slug} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-ID: {tag}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def post_once(port: int, payload: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length")
        body = await (reader.readexactly(int(length)) if length else reader.read())
        return status, headers, body
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _client(load: Load, number: int, began: float) -> None:
    sent = 0
    interval = load.clients / load.rate if load.rate else 0.0
    # load.seconds is read on every round: a fault may lengthen the run to watch a recovery.
    while (now := time.monotonic()) < began + load.seconds:
        tag = f"{load.tag_prefix}-{number}-{sent}"
        sent += 1
        payload = request_bytes(load.port, load.slug, body_for(tag), tag)
        try:
            status, headers, body = await asyncio.wait_for(
                post_once(load.port, payload), REQUEST_TIMEOUT
            )
            excerpt = body[:300].decode("utf-8", "replace") if status >= 500 else ""
            retry_after = "retry-after" in headers
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as error:
            status, retry_after, excerpt = NO_ANSWER, False, f"{error.__class__.__name__}"
        except TimeoutError:
            status, retry_after, excerpt = NO_ANSWER, False, "timeout"
        finished = time.monotonic()
        load.outcomes.append(
            Outcome(tag, status, now - began, finished - now, retry_after, excerpt)
        )
        if status == NO_ANSWER:
            await asyncio.sleep(0.05)  # the server is not there: do not spin
        if interval:
            await asyncio.sleep(max(0.0, now + interval - time.monotonic()))


async def run_load(load: Load, faults: Callable[[float], asyncio.Future] | None = None) -> None:
    """Run ``load``; ``faults(began)`` runs beside it (a coroutine injecting faults on time)."""
    began = time.monotonic()
    tasks = [_client(load, n, began) for n in range(load.clients)]
    if faults is not None:
        tasks.append(faults(began))
    await asyncio.gather(*tasks)


def p99_ms(outcomes: list[Outcome]) -> float:
    latencies = sorted(o.latency for o in outcomes if o.status != NO_ANSWER)
    if not latencies:
        return 0.0
    return latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
