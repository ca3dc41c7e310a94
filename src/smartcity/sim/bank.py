"""A simulated bank, run as its own process (``smartcity bank serve``).

It plays the bank's side of the gateway protocol (``apps/payment/bank_protocol.py``):
the platform creates a payment order (HMAC-signed), the bank answers with its reference
and a page where the payer approves or declines, and later calls the platform back,
asynchronously and signed, with the outcome. Callbacks are retried with backoff until
the platform answers (a 2xx, or a 4xx that says it will never accept it), so the
platform sees late, repeated and concurrent callbacks as a real bank sends them.

``--decide approve|decline`` answers every order by itself after ``--delay`` seconds;
``manual`` waits for ``POST /pay/<reference>/approve`` (or ``/decline``);
``POST /orders/<reference>/resend`` sends a decided order's callback again. The bank
keeps its orders in memory: it is a test double, not a ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum

import httpx2
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from smartcity.apps.payment.bank_protocol import ForgedMessage, signed_headers, verify_message

log = logging.getLogger(__name__)

MAX_CALLBACK_ATTEMPTS = 8


class Decide(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    MANUAL = "manual"


@dataclass
class BankOrder:
    order_number: str
    bank_reference: str
    amount_fen: int
    callback_url: str
    description: str
    outcome: str | None = None  # confirmed | failed
    callbacks_sent: int = 0
    delivered: bool = False


@dataclass
class Bank:
    secret: bytes
    decide: Decide = Decide.APPROVE
    delay_s: float = 0.2
    base_url: str = "http://127.0.0.1:8100"
    orders: dict[str, BankOrder] = field(default_factory=dict)
    by_reference: dict[str, BankOrder] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def open_order(self, data: dict[str, object]) -> BankOrder:
        number = str(data["order_number"])
        known = self.orders.get(number)
        if known is not None:
            return known  # the platform asked again after a lost answer
        amount = data["amount_fen"]
        if not isinstance(amount, int) or amount <= 0:
            raise ValueError("amount_fen must be a positive integer")
        order = BankOrder(
            order_number=number,
            bank_reference="B" + secrets.token_hex(8),
            amount_fen=amount,
            callback_url=str(data["callback_url"]),
            description=str(data.get("description", "")),
        )
        self.orders[number] = order
        self.by_reference[order.bank_reference] = order
        if self.decide != Decide.MANUAL:
            outcome = "confirmed" if self.decide == Decide.APPROVE else "failed"
            self.schedule(order, outcome, self.delay_s)
        return order

    def schedule(self, order: BankOrder, outcome: str, delay_s: float = 0.0) -> None:
        if order.outcome is None:
            order.outcome = outcome
        task = asyncio.get_running_loop().create_task(self._deliver(order, delay_s))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver(self, order: BankOrder, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        body = orjson.dumps(
            {
                "order_number": order.order_number,
                "bank_reference": order.bank_reference,
                "status": order.outcome,
                "amount_fen": order.amount_fen,
            }
        )
        backoff = 0.2
        async with httpx2.AsyncClient(timeout=10) as client:
            for _attempt in range(MAX_CALLBACK_ATTEMPTS):
                order.callbacks_sent += 1
                headers = signed_headers(self.secret, body, int(time.time()))
                with contextlib.suppress(httpx2.HTTPError):
                    answer = await client.post(order.callback_url, content=body, headers=headers)
                    if answer.status_code < 300 or 400 <= answer.status_code < 500:
                        order.delivered = answer.status_code < 300
                        return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        log.warning("callback of %s never delivered", order.order_number)


def create_bank_app(bank: Bank) -> Starlette:
    """The ASGI application of the simulated bank."""

    async def create_order(request: Request) -> Response:
        body = await request.body()
        try:
            verify_message(bank.secret, {k.lower(): v for k, v in request.headers.items()}, body)
            data = orjson.loads(body)
            order = bank.open_order(data)
        except ForgedMessage as exc:
            return JSONResponse({"error": exc.reason}, status_code=401)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"error": f"bad order: {exc}"}, status_code=422)
        return JSONResponse(
            {
                "bank_reference": order.bank_reference,
                "pay_url": f"{bank.base_url}/pay/{order.bank_reference}",
            }
        )

    def _order(request: Request) -> BankOrder | None:
        return bank.by_reference.get(request.path_params["reference"])

    async def show(request: Request) -> Response:
        order = _order(request)
        if order is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        reference = html.escape(order.bank_reference)
        page = (
            "<!doctype html><meta charset=utf-8><title>模拟银行 Simulated bank</title>"
            f"<h1>支付 {order.amount_fen // 100}.{order.amount_fen % 100:02d} 元</h1>"
            f"<p>{html.escape(order.description)}</p>"
            f'<form method=post action="/pay/{reference}/approve">'
            "<button>同意 Approve</button></form>"
            f'<form method=post action="/pay/{reference}/decline">'
            "<button>拒绝 Decline</button></form>"
        )
        return HTMLResponse(page)

    async def decide(request: Request) -> Response:
        order = _order(request)
        if order is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        outcome = "confirmed" if request.path_params["choice"] == "approve" else "failed"
        bank.schedule(order, outcome)
        return JSONResponse({"bank_reference": order.bank_reference, "outcome": order.outcome})

    async def resend(request: Request) -> Response:
        """Send a decided order's callback again, as banks do after a timeout."""
        order = _order(request)
        if order is None or order.outcome is None:
            return JSONResponse({"error": "no decided order"}, status_code=404)
        bank.schedule(order, order.outcome)
        return JSONResponse({"bank_reference": order.bank_reference, "outcome": order.outcome})

    async def status(request: Request) -> Response:
        order = _order(request)
        if order is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        return JSONResponse(
            {
                "order_number": order.order_number,
                "bank_reference": order.bank_reference,
                "amount_fen": order.amount_fen,
                "outcome": order.outcome,
                "callbacks_sent": order.callbacks_sent,
                "delivered": order.delivered,
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        for task in list(bank.tasks):
            task.cancel()

    return Starlette(
        routes=[
            Route("/orders", create_order, methods=["POST"]),
            Route("/orders/{reference}", status, methods=["GET"]),
            Route("/orders/{reference}/resend", resend, methods=["POST"]),
            Route("/pay/{reference}", show, methods=["GET"]),
            Route("/pay/{reference}/{choice:str}", decide, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
