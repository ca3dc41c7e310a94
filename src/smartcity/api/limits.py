"""Request body size limit, as pure ASGI middleware.

Pure ASGI (not ``BaseHTTPMiddleware``) because it wraps every request: it adds one header
lookup and a byte counter, and never buffers or copies a body.

Two checks, because a client may not say how much it sends:

- a declared ``Content-Length`` above the limit is refused at once, before the
  application runs or a byte of the body is read; one within it (and no
  ``Transfer-Encoding``) is all the body there is, so the request passes unwrapped;
- a chunked body is counted as it streams in; the chunk that crosses the limit raises
  :class:`RequestBodyTooLarge` out of ``receive``. It is an ``HTTPException``, so FastAPI
  lets it through its body parsing and the problem handlers answer 413; should it escape
  the application, this middleware answers 413 itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartcity.api.problems import PROBLEM_TYPE_PREFIX
from smartcity.api.responses import ProblemResponse
from smartcity.kernel.errors import PayloadTooLarge


class RequestBodyTooLarge(HTTPException):
    """The request body grew past the limit while streaming in."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_detail(limit))
        # Read by the problem handler, so both ways of answering say the same.
        self.problem_extensions = {"limit": limit}


def too_large_detail(limit: int) -> str:
    """The problem detail for a body over ``limit`` bytes."""
    return f"the request body exceeds the limit of {limit} bytes"


def body_framing(scope: Scope) -> tuple[int | None, bool]:
    """The ``Content-Length`` as an integer (if well formed) and whether it frames the body.

    It frames the body when it is well formed and no ``Transfer-Encoding`` overrides it:
    the server then hands the application exactly that many bytes (HTTP/1.1 ends such a
    body by its length; HTTP/2 refuses DATA beyond it).
    """
    length: int | None = None
    seen = False
    encoded = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and not seen:
            seen = True
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            encoded = True
    return length, length is not None and length >= 0 and not encoded


def too_large_response(scope: Scope, limit: int) -> ProblemResponse:
    """A 413 problem document, built without a Request object."""
    document: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + PayloadTooLarge.code,
        "title": PayloadTooLarge.title,
        "status": 413,
        "detail": too_large_detail(limit),
        "instance": scope.get("path", ""),
        "code": PayloadTooLarge.code,
        "limit": limit,
    }
    # The unread body is left on the connection, so ask the client to open a new one.
    return ProblemResponse(document, status_code=413, headers={"Connection": "close"})


class BodySizeLimit:
    """Refuse request bodies larger than ``max_body_bytes`` with a 413 problem.

    ``path_limits`` gives exact paths a limit of their own (an upload route that counts
    and refuses its own bytes, say); every other path has ``max_body_bytes``.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count streamed bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.max_body_bytes)
        length, framed = body_framing(scope)
        if length is not None and length > limit:
            await too_large_response(scope, limit)(scope, receive, send)
            return
        if framed:
            # A body of a declared length within the limit cannot grow past it: nothing
            # to count, and no wrapped receive and send on every request (the hot
            # PATCHes declare their length).
            await self.app(scope, receive, send)
            return

        received = 0
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestBodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except RequestBodyTooLarge:
            if response_started:
                # Too late for a status line; dropping the connection is all that is left.
                raise
            await too_large_response(scope, limit)(scope, receive, send)
