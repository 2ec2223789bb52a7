"""Webhook URLs that cannot reach inside: the address check (SSRF) and the HTTP call itself.

A URL is checked when it is saved and again at each send, since DNS may answer differently
later. The request then goes to the very address that was checked (no second lookup an
attacker could answer otherwise) and a redirect is never followed.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.exceptions import ValidationFailed
from app.services.delivery.transport import SendResult
from app.services.delivery.transport import certificate_refused
from app.services.delivery.transport import excerpt

log = logging.getLogger("formyard.webhooks")

MAX_URL_CHARS = 2000
RESPONSE_BYTES_READ = 64 * 1024
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValidationFailed):
    code = "unsafe_url"


@dataclass(frozen=True)
class Target:
    """A checked URL: where it points, and the addresses it may be sent to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_allowed(address: str, *, allow_private: bool) -> bool:
    """Whether a webhook may go to ``address``. Link-local (cloud metadata), multicast,
    unspecified and reserved addresses never; loopback and private networks only when allowed."""
    ip = _unwrap(ipaddress.ip_address(address.split("%", 1)[0]))
    if ip is None or ip.is_multicast or ip.is_unspecified or ip.is_link_local or ip.is_reserved:
        return False
    # What is left that is not global: loopback, private and shared networks.
    return ip.is_global or allow_private


def _unwrap(ip: IPAddress) -> IPAddress | None:
    """The IPv4 address inside an IPv6 one that carries it; None for Teredo tunnels."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.teredo:
            return None
        return ip.ipv4_mapped or ip.sixtofour or ip
    return ip


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a webhook URL, or ValidationFailed."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("This is not a valid web address.", field="url") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > MAX_URL_CHARS:
        raise ValidationFailed(
            "Give a full web address starting with https:// (or http://).", field="url"
        )
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed(
            "Leave the user name and password out of the address; receivers check the "
            "signature header instead.",
            field="url",
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def check_url(url: str, *, allow_private: bool) -> Target:
    """The target of ``url`` if every address it resolves to is allowed; UnsafeURL otherwise."""
    scheme, host, port, path = parse_url(url)
    try:
        addresses = system_resolver(host, port)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"The host {host} could not be found.", field="url") from None
    if not addresses:
        raise UnsafeURL(f"The host {host} could not be found.", field="url")
    refused = [a for a in addresses if not address_allowed(a, allow_private=allow_private)]
    if refused:
        # One internal address is enough to refuse: DNS could hand out either.
        raise UnsafeURL(
            f"{host} points to an internal address ({refused[0]}); webhooks may only call "
            "public addresses.",
            field="url",
        )
    return Target(scheme, host, port, path, tuple(addresses))


def post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    tls: ssl.SSLContext | None = None,
) -> SendResult:
    """POST ``body`` to the first checked address that answers; the whole call, reading
    included, ends after ``timeout`` seconds. ``tls`` verifies https receivers (by default
    against the system's CAs)."""
    failure = SendResult.failure("No address to connect to.")
    for address in target.addresses:
        connection = _connection(target, address, timeout, tls)
        try:
            return _exchange(connection, target, body, headers, timeout)
        except ConnectionRefusedError as error:
            failure = SendResult.failure(f"Connection refused: {error}")
        except ssl.SSLCertVerificationError as error:
            reason = certificate_refused(target.host, error)
            log.warning("webhook to %s:%s not sent: %s", target.host, target.port, reason)
            return SendResult.failure(reason)
        except (OSError, http.client.HTTPException) as error:
            return SendResult.failure(_describe(error))
        finally:
            connection.close()
    return failure


def _exchange(
    connection: http.client.HTTPConnection,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> SendResult:
    started = time.monotonic()
    # A socket timeout bounds each read; this bounds them all, against a slow trickle.
    watchdog = threading.Timer(timeout, _abort, args=(connection,))
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read(RESPONSE_BYTES_READ)
    except (OSError, http.client.HTTPException) as error:
        # Cut off by the watchdog, the answer may look broken rather than late.
        if isinstance(error, TimeoutError) or time.monotonic() - started >= timeout:
            raise TimeoutError(f"Timed out: no answer within {timeout:g} seconds.") from None
        raise
    finally:
        watchdog.cancel()
    return _result(response, data)


def _result(response: http.client.HTTPResponse, data: bytes) -> SendResult:
    status = response.status
    if 200 <= status < 300:
        return SendResult(True, status, None, excerpt(data))
    if 300 <= status < 400:
        location = response.getheader("Location", "")
        error = f"Redirect to {location[:200]} not followed; give the final address."
        return SendResult(False, status, error, excerpt(data))
    return SendResult(False, status, f"HTTP {status} {response.reason}"[:500], excerpt(data))


def _connection(
    target: Target, address: str, timeout: float, tls: ssl.SSLContext | None
) -> http.client.HTTPConnection:
    if target.scheme == "https":
        context = tls or ssl.create_default_context()
        return PinnedHTTPSConnection(target.host, target.port, address, timeout, context)
    return PinnedHTTPConnection(target.host, target.port, address, timeout)


def _abort(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return str(error) or "Timed out."
    return f"{error.__class__.__name__}: {error}"


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address while the Host header keeps the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the socket goes to the checked address, while SNI and the
    certificate check use the URL's host name (``context`` verifies the chain and the name)."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
