"""Receipts signed in a worker process of their own (the default outside tests)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.apps.payment.actions import issue_bills, pay_bill, runtime_of
from smartcity.apps.payment.models import BillRequest, Payer, PayerKind, PaymentMethod
from smartcity.apps.payment.sim import fund_wallets
from smartcity.apps.payment.tables import payment_bill, payment_receipt
from smartcity.kernel.bus import Event
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from tests.apps.payment.conftest import (
    CA_PASSPHRASE,
    CITIZEN,
    CITIZEN_ID,
    PaymentWorld,
    StandInBank,
    register_payers,
)


@pytest.fixture
def process_world(
    store: Store, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PaymentWorld]:
    monkeypatch.setenv("SMARTCITY_PAYMENT_RECEIPTS", "background")
    register_payers(store)
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase=CA_PASSPHRASE),
        apps=installed_apps(),
        store=store,
        clock=clock,
        migrate=False,
    )
    bank = StandInBank()
    runtime_of(platform).gateway = bank
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        yield PaymentWorld(platform=platform, client=client, bank=bank, clock=clock)


def _receipts(store: Store) -> int:
    with store.connect() as conn:
        count: int = conn.execute(
            select(func.count())
            .select_from(payment_receipt)
            .where(payment_receipt.c.signature.is_not(None))
        ).scalar_one()
    return count


def _wait_for(condition: Callable[[], bool], limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s  # a bound, not a speed assumption
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_paid_bills_get_signed_receipts_and_notices_from_the_worker_process(
    process_world: PaymentWorld,
) -> None:
    world = process_world
    heard: list[Event] = []

    async def listen(event: Event) -> None:
        heard.append(event)

    world.platform.bus.subscribe("payment.receipt_issued", listen)
    world.platform.bus.subscribe("notify.messages_created", listen)
    world.top_up(CITIZEN, 10_000)
    bills = [world.issue(number=f"E-{n}", amount=100 + n) for n in range(3)]
    for n, bill in enumerate(bills):
        paid = world.client.post(
            f"/payment/bills/{bill['id']}/pay",
            json={"request_id": f"proc-{n}", "method": "wallet"},
            headers=world.auth(CITIZEN),
        )
        assert paid.status_code == 200
    _wait_for(lambda: _receipts(world.platform.store) == 3)
    assert _receipts(world.platform.store) == 3
    # The worker's events come back to the server's bus (open pages hear of the notices).
    _wait_for(lambda: sum(e.topic == "payment.receipt_issued" for e in heard) == 3)
    assert sum(e.topic == "payment.receipt_issued" for e in heard) == 3
    assert any(e.topic == "notify.messages_created" for e in heard)
    order_id = paid.json()["id"]
    receipt = world.client.get(
        f"/payment/bills/{bills[-1]['id']}/receipt", headers=world.auth(CITIZEN)
    )
    assert receipt.status_code == 200
    assert receipt.json()["order_id"] == order_id


def test_a_bill_paid_while_no_worker_ran_gets_its_receipt_at_start(
    store: Store, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Paid while no server ran (a command, or a crash before the receipt) ...
    monkeypatch.setenv("SMARTCITY_PAYMENT_RECEIPTS", "on_demand")
    register_payers(store)
    settings = Settings(data_dir=tmp_path, ca_passphrase=CA_PASSPHRASE)
    quiet = Platform.open(settings, apps=installed_apps(), store=store, clock=clock, migrate=False)
    payer = Payer(PayerKind.CITIZEN, CITIZEN_ID)
    fund_wallets(quiet, [payer], 10_000, tag="sweep")
    request = BillRequest(
        bill_number="W-SWEEP-1",
        payer_kind=PayerKind.CITIZEN,
        payer_identifier=CITIZEN_ID,
        amount_fen=2500,
        period="2026-10",
        due_date=date(2026, 12, 15),
    )
    issue_bills(quiet, "water", [request])
    with store.connect() as conn:
        bill_id = conn.execute(select(func.max(payment_bill.c.id))).scalar_one()
    pay_bill(quiet, payer, bill_id, "sweep-1", PaymentMethod.WALLET, callback_url="http://x")
    assert _receipts(store) == 0
    # ... the worker process sweeps it up when the server starts.
    monkeypatch.setenv("SMARTCITY_PAYMENT_RECEIPTS", "background")
    platform = Platform.open(
        settings, apps=installed_apps(), store=store, clock=clock, migrate=False
    )
    with TestClient(create_app(platform)):
        _wait_for(lambda: _receipts(store) == 1)
        assert _receipts(store) == 1
