"""The platform's side of the bank gateway: asking the bank to collect a payment.

The bank (in the demo, the simulator of ``smartcity bank serve``) answers at once with
its own reference and a page where the payer approves; the outcome arrives later, as a
signed callback to ``POST /payment/bank/callback``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx2
import orjson

from smartcity.apps.payment.bank_protocol import signed_headers
from smartcity.kernel.errors import DomainError


class BankUnavailable(DomainError):
    """The bank did not answer; nothing was charged and the order may be retried."""

    status = 503
    code = "bank-unavailable"
    title = "Bank unavailable"


@dataclass(frozen=True, slots=True)
class BankOrder:
    bank_reference: str
    pay_url: str


class BankClient(Protocol):
    """What the payment app needs of a bank (tests put a stand-in here)."""

    base_url: str

    def create_order(
        self,
        *,
        order_number: str,
        amount_fen: int,
        callback_url: str,
        description: str,
        timestamp: int,
    ) -> BankOrder: ...


class BankGateway:
    """Creates payment orders at the bank over HTTP (one pooled client per process)."""

    def __init__(self, base_url: str, secret: bytes, *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._client = httpx2.Client(timeout=timeout_s)

    def create_order(
        self,
        *,
        order_number: str,
        amount_fen: int,
        callback_url: str,
        description: str,
        timestamp: int,
    ) -> BankOrder:
        """Ask the bank to collect ``amount_fen``; the same order number is idempotent."""
        body = orjson.dumps(
            {
                "order_number": order_number,
                "amount_fen": amount_fen,
                "callback_url": callback_url,
                "description": description,
            }
        )
        try:
            answer = self._client.post(
                f"{self.base_url}/orders",
                content=body,
                headers=signed_headers(self._secret, body, timestamp),
            )
        except httpx2.HTTPError as exc:
            raise BankUnavailable(f"the bank did not answer: {exc}") from None
        if answer.status_code != 200:
            raise BankUnavailable(f"the bank refused the order with HTTP {answer.status_code}")
        data = answer.json()
        return BankOrder(bank_reference=str(data["bank_reference"]), pay_url=str(data["pay_url"]))

    def close(self) -> None:
        self._client.close()
