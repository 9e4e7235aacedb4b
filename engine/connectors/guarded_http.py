"""HTTP out of the installation, guarded against SSRF: only to hosts an administrator allowed, never
to a private, loopback or link-local address unless that connector allows it explicitly, redirects
followed only within the same host, a time limit over the whole exchange and a cap on the answer.

The address checked is the address connected to (the name is resolved once, then the socket opened to
that very address, with the name kept for TLS and the Host header): a name that resolves to a public
address when checked and to 127.0.0.1 when used (DNS rebinding) cannot slip through.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from ..texts import text

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3


class Refused(Exception):
    """Raised when a request may not be made at all (a host not allowed, a private address, a redirect
    elsewhere): retrying cannot help."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Failed(Exception):
    """Raised when a request was allowed but did not succeed (refused connection, timeout, an answer
    too large): a later attempt may."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Policy:
    hosts: frozenset = field(default_factory=frozenset)  # lower-case names or addresses
    allow_private: bool = False
    timeout_s: float = 10.0
    max_bytes: int = 1_000_000


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes
    url: str


def request(method: str, url: str, policy: Policy, body: bytes | None = None, headers: dict | None = None) -> Response:
    deadline = time.monotonic() + policy.timeout_s
    first_host = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        response = _once(method, url, policy, body, headers or {}, deadline)
        location = response.headers.get("location")
        if response.status not in REDIRECTS or not location:
            return response
        target = urljoin(url, location)
        if (urlsplit(target).hostname or "").lower() != (first_host or "").lower():
            raise Refused(text("connector.redirect_elsewhere", url=_shown(target)))
        if response.status == 303:
            method, body = "GET", None
        url = target
    raise Failed(text("connector.too_many_redirects", limit=MAX_REDIRECTS))


def check(url: str, policy: Policy) -> tuple[str, str, int, str]:
    """(scheme, host, port, address) of an allowed URL; Refused otherwise."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        raise Refused(text("connector.bad_url", url=_shown(url)))
    if host not in policy.hosts:
        raise Refused(text("connector.host_not_allowed", host=host))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        raise Failed(text("connector.unresolved", host=host, reason=str(error))) from None
    for *_, address in found:
        ip = ipaddress.ip_address(address[0].split("%")[0])
        if not ip.is_global and not policy.allow_private:
            raise Refused(text("connector.private_address", host=host, address=str(ip)))
    return scheme, host, port, found[0][4][0]


def _once(method, url, policy, body, headers, deadline) -> Response:
    scheme, host, port, address = check(url, policy)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = None
    try:
        connection = _Pinned(host, port, address, scheme == "https", _remaining(deadline))
        connection.request(method, path, body=body, headers={"User-Agent": "Duban", **headers})
        connection.sock.settimeout(_remaining(deadline))  # each read waits at most what is left
        answer = connection.getresponse()
        chunks, size = [], 0
        while True:
            _remaining(deadline)  # a trickle of bytes does not stretch the limit past one more read
            chunk = answer.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise Failed(text("connector.too_large", limit=policy.max_bytes))
            chunks.append(chunk)
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, b"".join(chunks), url)
    except TimeoutError:
        raise Failed(text("connector.timeout", seconds=policy.timeout_s)) from None
    except (OSError, http.client.HTTPException) as error:
        raise Failed(text("connector.unreachable", host=host, reason=str(error) or type(error).__name__)) from None
    finally:
        if connection is not None:
            connection.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


class _Pinned(http.client.HTTPConnection):
    """A connection to the checked address, speaking to the host by name (Host, TLS SNI, certificate)."""

    def __init__(self, host, port, address, tls, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address, self._tls = address, tls

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        if self._tls:
            self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


def _shown(url: str) -> str:
    """A URL as a message may show it: scheme, host and path, never its query (webhook keys live there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"[:200]
