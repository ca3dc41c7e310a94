"""The hot route answered before routing: ``POST /payment/bills/{id}/pay`` from the wallet.

Pure ASGI in front of the application. A wallet payment with a valid bearer token and
a well-formed body goes straight to the group committer; the answer and every refusal
are the ones the routed endpoint gives (the same order JSON, the same problem
documents). Anything else (a bank payment, a missing or bad token, a malformed body)
is handed on untouched to the routed endpoint, which stays the documented one. Skipping
route matching and dependency solving is most of the cost of a payment, measured:
see docs/performance.md.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartcity.apps.payment.actions import runtime_of
from smartcity.apps.payment.models import PaymentMethod, PayRequest
from smartcity.apps.payment.permissions import payer_of
from smartcity.kernel.errors import DomainError
from smartcity.kernel.identity.permissions import Permission, check_permission

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

PAY_PATH = re.compile(r"/payment/bills/([1-9][0-9]{0,8})/pay")
# A payment request body is tiny; anything larger takes the ordinary road.
MAX_BODY = 1024
PROBLEM_PREFIX = "urn:smartcity:problem:"
JSON_HEADERS = [(b"content-type", b"application/json")]
PROBLEM_HEADERS = [(b"content-type", b"application/problem+json")]


class WalletPaymentFastPath:
    """ASGI middleware answering wallet payments without routing."""

    def __init__(self, app: ASGIApp, platform: Platform) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = PAY_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        handled = complete and await self._pay(scope, int(match.group(1)), body, send)
        if not handled:
            await self.app(scope, _replaying(body, receive), send)

    async def _pay(self, scope: Scope, bill_id: int, body: bytes, send: Send) -> bool:
        token = _bearer(scope)
        committer = runtime_of(self.platform).committer
        if token is None or committer is None:
            return False
        try:
            principal = self.platform.tokens.verify(token, self.platform.clock.now())
            check_permission(principal, Permission.PAYMENT_PAY)  # as the route declares
            request = PayRequest.model_validate_json(body)
            payer = payer_of(principal)
        except (DomainError, ValidationError):
            return False  # the routed endpoint gives the standard answer
        if request.method != PaymentMethod.WALLET:
            return False
        try:
            order = await committer.pay(payer, bill_id, request.request_id)
        except DomainError as error:
            await _respond(send, error.status, PROBLEM_HEADERS, _problem(scope, error))
            return True
        await _respond(send, 200, JSON_HEADERS, order.model_dump_json().encode())
        return True


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether it was read whole within ``MAX_BODY``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body on first, then the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _problem(scope: Scope, error: DomainError) -> bytes:
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


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
