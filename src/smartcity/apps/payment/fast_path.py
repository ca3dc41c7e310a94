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
        body, complete = await read_body(receive, MAX_BODY)
        handled = complete and await self._pay(scope, int(match.group(1)), body, send)
        if not handled:
            await self.app(scope, replaying(body, receive), send)

    async def _pay(self, scope: Scope, bill_id: int, body: bytes, send: Send) -> bool:
        token = bearer(scope)
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
            await respond(send, error.status, PROBLEM_HEADERS, problem_document(scope, error))
            return True
        await respond(send, 200, JSON_HEADERS, order.model_dump_json().encode())
        return True
