"""Pieces of the pure-ASGI fast paths apps put in front of routing for their hot routes.

An app's ``routes_module`` may export ``fast_path``, an ASGI middleware the API assembly
installs; it answers the hot route itself (token, permission, body, work) and hands
anything unusual on untouched to the routed endpoint, which stays the documented one.
These helpers read the body once (and replay it for the routed endpoint), find the
bearer token, and write answers and problem documents exactly as the routed API does.
Used by ``apps/payment/fast_path.py`` and ``apps/card/fast_path.py``.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from smartcity.kernel.errors import DomainError

PROBLEM_PREFIX = "urn:smartcity:problem:"
JSON_HEADERS = [(b"content-type", b"application/json")]
PROBLEM_HEADERS = [(b"content-type", b"application/problem+json")]


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request body, and whether it was read whole within ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body on first, then the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def problem_document(scope: Scope, error: DomainError) -> bytes:
    """The problem document ``api.problems`` writes for a domain error."""
    document: dict[str, Any] = {
        "type": error.type_uri or PROBLEM_PREFIX + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.reason,
        "instance": scope["path"],
        "code": error.code,
    }
    for key, value in error.details.items():
        document.setdefault(key, value)
    return orjson.dumps(document)


async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
