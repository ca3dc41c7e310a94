"""The body size limit at the ASGI level: chunks counted as they stream in."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from smartcity.api.limits import BodySizeLimit


async def reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the whole body, then answer 200 with its size."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


def run(chunks: list[bytes], headers: list[tuple[bytes, bytes]], limit: int) -> list[Message]:
    scope: Scope = {"type": "http", "method": "POST", "path": "/upload", "headers": headers}
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []
    read = 0

    async def receive() -> Message:
        nonlocal read
        read += 1
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(BodySizeLimit(reading_app, max_body_bytes=limit)(scope, receive, send))
    sent.append({"type": "test.chunks_read", "count": read})
    return sent


def status_of(sent: list[Message]) -> int:
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


def test_streamed_chunks_over_the_limit_are_refused_midway() -> None:
    sent = run([b"a" * 40] * 10, headers=[], limit=100)
    assert status_of(sent) == 413
    # The third chunk crosses the limit; the rest is never read.
    assert sent[-1]["count"] == 3


def test_streamed_chunks_within_the_limit_pass() -> None:
    sent = run([b"a" * 40] * 2, headers=[], limit=100)
    assert status_of(sent) == 200


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    sent = run([b"a" * 10], headers=[(b"content-length", b"5000")], limit=100)
    assert status_of(sent) == 413
    assert sent[-1]["count"] == 0


def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def nothing() -> Message:
        return {}

    async def ignore(message: Message) -> None:
        return None

    asyncio.run(BodySizeLimit(app, max_body_bytes=1)({"type": "lifespan"}, nothing, ignore))
    assert seen == ["lifespan"]


def test_declared_length_within_the_limit_passes() -> None:
    sent = run([b"a" * 40] * 2, headers=[(b"content-length", b"80")], limit=100)
    assert status_of(sent) == 200
    assert sent[1]["body"] == b"80"


def test_a_transfer_encoding_keeps_the_body_counted() -> None:
    headers = [(b"content-length", b"10"), (b"transfer-encoding", b"chunked")]
    sent = run([b"a" * 40] * 10, headers=headers, limit=100)
    assert status_of(sent) == 413
    assert sent[-1]["count"] == 3


def test_a_malformed_declared_length_keeps_the_body_counted() -> None:
    sent = run([b"a" * 40] * 10, headers=[(b"content-length", b"ten")], limit=100)
    assert status_of(sent) == 413
    assert sent[-1]["count"] == 3
