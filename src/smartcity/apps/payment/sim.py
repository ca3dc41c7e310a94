"""What the payment app adds to the simulated city: bills for its residents and money in
their wallets, through the same actions (and bank flow) real payers go through."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select

from smartcity.apps.payment import actions
from smartcity.apps.payment.bank_gateway import BankOrder
from smartcity.apps.payment.bank_protocol import signed_headers
from smartcity.apps.payment.billers import BILLERS
from smartcity.apps.payment.models import BillRequest, Payer, PayerKind, TopUpRequest
from smartcity.kernel.identity.tables import identity_citizen

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

BILLER_CODES: tuple[str, ...] = tuple(biller.code for biller in BILLERS)

# Typical monthly amounts in fen (low, high) per biller.
AMOUNTS: dict[str, tuple[int, int]] = {
    "electricity": (3_000, 60_000),
    "water": (1_500, 12_000),
    "gas": (2_000, 25_000),
    "telecom": (3_900, 29_900),
    "medical_insurance": (38_000, 38_000),
    "traffic_fines": (20_000, 20_000),
    "taxes": (10_000, 500_000),
}


@dataclass
class LoopbackBank:
    """A bank inside the process that records orders, for seeding without the simulator."""

    base_url: str = "http://loopback.bank"
    orders: dict[str, tuple[str, int]] = field(default_factory=dict)
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def create_order(
        self,
        *,
        order_number: str,
        amount_fen: int,
        callback_url: str,
        description: str,
        timestamp: int,
    ) -> BankOrder:
        reference = self.orders.setdefault(
            order_number, (f"L{next(self._serial):08d}", amount_fen)
        )[0]
        return BankOrder(bank_reference=reference, pay_url=f"{self.base_url}/pay/{reference}")


def fund_wallets(platform: Platform, payers: Sequence[Payer], amount_fen: int, *, tag: str) -> None:
    """Top every payer's wallet up by ``amount_fen`` through the bank flow, confirmed at once."""
    runtime = actions.runtime_of(platform)
    saved, bank = runtime.gateway, LoopbackBank()
    runtime.gateway = bank
    try:
        for payer in payers:
            order = actions.top_up(
                platform,
                payer,
                TopUpRequest(request_id=f"{tag}-{payer.identifier}", amount_fen=amount_fen),
                callback_url="loopback",
            )
            number = actions.order_number_of(order.id)
            reference = bank.orders[number][0]
            body = orjson.dumps(
                {
                    "order_number": number,
                    "bank_reference": reference,
                    "status": "confirmed",
                    "amount_fen": amount_fen,
                }
            )
            headers = {
                k.lower(): v
                for k, v in signed_headers(runtime.bank_secret, body, int(time.time())).items()
            }
            if order.status.value == "pending":
                actions.handle_bank_callback(platform, headers, body)
    finally:
        runtime.gateway = saved


def citizens_of(platform: Platform, count: int) -> list[Payer]:
    """The first ``count`` registered citizens, as payers."""
    with platform.store.connect() as conn:
        rows = conn.execute(
            select(identity_citizen.c.national_id).order_by(identity_citizen.c.id).limit(count)
        ).all()
    return [Payer(PayerKind.CITIZEN, r.national_id) for r in rows]


def issue_demo_bills(
    platform: Platform,
    payers: Sequence[Payer],
    *,
    period: str,
    seed: int,
    billers: Sequence[str] = BILLER_CODES,
    copies: int = 1,
    series: str = "",
) -> int:
    """Bills of ``period`` from every biller to every payer (``copies`` each), seeded.

    ``series`` keeps the bill numbers of separate runs for the same period apart.
    """
    rng = random.Random(seed)
    due = dt.date.fromisoformat(period + "-01") + dt.timedelta(days=45)
    issued = 0
    for biller in billers:
        low, high = AMOUNTS.get(biller, (1_000, 10_000))
        requests = [
            BillRequest(
                bill_number=f"{biller[:3].upper()}-{period}-{series}{index:07d}-{copy}",
                payer_kind=payer.kind,
                payer_identifier=payer.identifier,
                amount_fen=rng.randint(low, high),
                period=period,
                due_date=due,
                reference=f"{biller[:3].upper()}{index:07d}",
            )
            for index, payer in enumerate(payers)
            for copy in range(copies)
        ]
        for start in range(0, len(requests), 5000):
            issued += actions.issue_bills(platform, biller, requests[start : start + 5000])
    return issued


DEMO_PAYERS = 200  # registered citizens who get a month of bills in the demo
DEMO_WALLET_FEN = 50_000  # what the demo accounts find in their wallets


def seed_demo(platform: Platform, seed: int) -> None:
    """Last month's bills for the demo accounts and the first citizens; money in the
    demo accounts' wallets, so the citizen page has something to pay with."""
    from smartcity.sim.accounts import DEMO_CITIZEN, DEMO_USCC

    today = platform.clock.now().date()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    period = f"{last_month:%Y-%m}"
    demo = [Payer(PayerKind.CITIZEN, DEMO_CITIZEN), Payer(PayerKind.ENTERPRISE, DEMO_USCC)]
    others = [p for p in citizens_of(platform, DEMO_PAYERS) if p.identifier != DEMO_CITIZEN]
    issue_demo_bills(platform, [*demo, *others], period=period, seed=seed, series="D")
    fund_wallets(platform, demo, DEMO_WALLET_FEN, tag=f"demo-{period}")
