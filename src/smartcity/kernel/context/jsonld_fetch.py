"""Reading remote and mapped @context documents: HTTP fetch, files, JSON checks.

A fetch function takes ``(url, timeout_s, max_bytes)`` and returns the document's bytes
or raises :class:`~smartcity.kernel.context.errors.LdContextNotAvailable`; the resolver
can be handed another one (tests, an offline mirror). The default one speaks HTTP(S)
only, follows at most a few redirects and stops reading past ``max_bytes``.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import orjson

from smartcity.kernel.context.errors import BadRequestData, LdContextNotAvailable

Fetch = Callable[[str, float, int], bytes]

ACCEPT = "application/ld+json, application/json;q=0.9, */*;q=0.1"
MAX_REDIRECTS = 3


def check_context_url(url: str) -> None:
    """Refuse a context reference the platform will not dereference (not http/https)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequestData(
            f"@context reference {url!r} is not an http(s) URL the broker can fetch",
            context=url,
        )


def is_public_address(address: str) -> bool:
    """True for an address on the public internet (not loopback, private, link-local, ...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_public_host(url: str) -> None:
    """Refuse ``url`` when its host is or resolves to a non-public address.

    A client names the context URL and the broker fetches it, so without this check a
    client could make the broker read services only it can reach (SSRF): the loopback
    admin ports, the cloud metadata address, the department intranet. Every address
    the name resolves to must be public. A DNS answer that changes between this check
    and the connection (rebinding) is not caught; deployments that need that closed
    list their contexts in the URL map instead of fetching them.
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise LdContextNotAvailable(
            f"@context {url!r}: host {host!r} cannot be resolved", context=url
        ) from exc
    for info in infos:
        if not is_public_address(str(info[4][0])):
            raise BadRequestData(
                f"@context {url!r}: host {host!r} is not a public address; the broker does "
                "not fetch contexts from private networks (see SMARTCITY_CONTEXT_ALLOW_PRIVATE)",
                context=url,
            )


def fetch_over_http(
    url: str, timeout_s: float, max_bytes: int, *, allow_private: bool = False
) -> bytes:
    """GET ``url`` within ``timeout_s`` in total, reading at most ``max_bytes``.

    Unless ``allow_private``, the first URL and every redirect target must resolve to
    public addresses (:func:`check_public_host`).
    """
    deadline = time.monotonic() + timeout_s
    timeout = httpx2.Timeout(timeout_s)

    def guard(request: httpx2.Request) -> None:
        check_public_host(str(request.url))

    hooks: dict[str, list[Callable[..., Any]]] = {} if allow_private else {"request": [guard]}
    try:
        with (
            httpx2.Client(
                timeout=timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                event_hooks=hooks,
            ) as client,
            client.stream("GET", url, headers={"Accept": ACCEPT}) as response,
        ):
            if response.status_code != 200:
                raise LdContextNotAvailable(
                    f"@context {url!r} answered HTTP {response.status_code}", context=url
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise BadRequestData(
                        f"@context {url!r} is larger than {max_bytes} bytes", context=url
                    )
                # Per-phase timeouts alone would let a server that trickles bytes keep
                # the request open for ever; the total deadline stops it.
                if time.monotonic() > deadline:
                    raise LdContextNotAvailable(
                        f"@context {url!r} took longer than {timeout_s:g} s", context=url
                    )
            return bytes(body)
    except httpx2.TimeoutException as exc:
        raise LdContextNotAvailable(
            f"@context {url!r} did not answer within {timeout_s:g} s", context=url
        ) from exc
    except httpx2.HTTPError as exc:
        raise LdContextNotAvailable(
            f"@context {url!r} cannot be fetched: {type(exc).__name__}", context=url
        ) from exc


def read_mapped_file(url: str, path: Path, max_bytes: int) -> bytes:
    """The bytes of the local file the URL map names for ``url``."""
    try:
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except OSError as exc:
        raise LdContextNotAvailable(
            f"@context {url!r} is mapped to {str(path)!r}, which cannot be read", context=url
        ) from exc
    if len(body) > max_bytes:
        raise BadRequestData(f"@context {url!r} is larger than {max_bytes} bytes", context=url)
    return body


def context_of_document(url: str, body: bytes) -> Any:
    """The ``@context`` member of a remote context document."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequestData(f"@context {url!r} is not a JSON document", context=url) from exc
    if not isinstance(document, dict) or "@context" not in document:
        raise BadRequestData(
            f"@context {url!r} is not a JSON-LD context: no top-level @context member",
            context=url,
        )
    return document["@context"]
