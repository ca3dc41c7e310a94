"""The hot route answered before routing: ``POST /api/card/taps``.

Pure ASGI in front of the application (the helpers of :mod:`smartcity.api.fast_path`):
a tap with a valid terminal token and a well-formed body goes straight to the tap
batcher; the answer and every refusal are the ones the routed endpoint gives. Anything
else (a missing or bad token, a malformed body) is handed on untouched to the routed
endpoint, which stays the documented one and gives the standard problem document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from smartcity.api.fast_path import (
    JSON_HEADERS,
    PROBLEM_HEADERS,
    bearer,
    problem_document,
    read_body,
    replaying,
    respond,
)
from smartcity.apps.card.batcher import TapBatcher
from smartcity.apps.card.models import TapRequest
from smartcity.apps.card.permissions import terminal_of
from smartcity.kernel.errors import DomainError
from smartcity.kernel.identity.permissions import Permission, check_permission

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

TAP_PATH = "/api/card/taps"
# A tap's body is tiny; anything larger takes the ordinary road.
MAX_BODY = 2048


class TapFastPath:
    """ASGI middleware answering live taps without routing."""

    def __init__(self, app: ASGIApp, platform: Platform) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != TAP_PATH:
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive, MAX_BODY)
        handled = complete and await self._tap(scope, body, send)
        if not handled:
            await self.app(scope, replaying(body, receive), send)

    async def _tap(self, scope: Scope, body: bytes, send: Send) -> bool:
        token = bearer(scope)
        if token is None:
            return False
        try:
            principal = self.platform.tokens.verify(token, self.platform.clock.now())
            check_permission(principal, Permission.CARD_TERMINAL)  # as the route declares
            request = TapRequest.model_validate_json(body)
        except (DomainError, ValidationError):
            return False  # the routed endpoint gives the standard answer
        batcher = self.platform.state("card", TapBatcher)
        try:
            answer = await batcher.tap_json(terminal_of(principal), request)
        except DomainError as error:
            await respond(send, error.status, PROBLEM_HEADERS, problem_document(scope, error))
            return True
        await respond(send, 200, JSON_HEADERS, answer)
        return True
