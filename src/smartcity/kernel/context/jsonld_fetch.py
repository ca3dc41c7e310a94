"""Reading remote and mapped @context documents: HTTP fetch, files, JSON checks.

A fetch function takes ``(url, timeout_s, max_bytes)`` and returns the document's bytes
or raises :class:`~smartcity.kernel.context.errors.LdContextNotAvailable`; the resolver
can be handed another one (tests, an offline mirror). The default one speaks HTTP(S)
only, follows at most a few redirects and stops reading past ``max_bytes``.
"""

from __future__ import annotations

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


def fetch_over_http(url: str, timeout_s: float, max_bytes: int) -> bytes:
    """GET ``url`` within ``timeout_s`` in total, reading at most ``max_bytes``."""
    deadline = time.monotonic() + timeout_s
    timeout = httpx2.Timeout(timeout_s)
    try:
        with (
            httpx2.Client(
                timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS
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
