"""The simulated bank and the platform, each on its own port, talking HTTP both ways.

The platform asks the bank to collect a payment; the bank answers at once, then calls
back (signed, asynchronously) with its decision, and keeps retrying until the platform
answers. Pending -> confirmed (or failed) is watched from the payer's side.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import uvicorn

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.apps.payment.actions import runtime_of
from smartcity.apps.payment.bank_gateway import BankGateway
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from smartcity.sim.bank import Bank, Decide, create_bank_app
from tests.apps.payment.conftest import CA_PASSPHRASE, CITIZEN, POWER_SYSTEM, register_payers
from tests.network import free_port

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@contextlib.contextmanager
def _serving(app: object, port: int) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextlib.contextmanager
def _city_and_bank(
    store: Store, tmp_path: Path, decide: Decide
) -> Iterator[tuple[Platform, str, Bank]]:
    register_payers(store)
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase=CA_PASSPHRASE),
        apps=installed_apps(),
        store=store,
        migrate=False,
    )
    runtime = runtime_of(platform)
    bank_port = free_port()
    bank = Bank(
        secret=runtime.bank_secret,
        decide=decide,
        delay_s=0.05,
        base_url=f"http://127.0.0.1:{bank_port}",
    )
    runtime.gateway = BankGateway(bank.base_url, runtime.bank_secret)
    with (
        _serving(create_bank_app(bank), bank_port),
        _serving(create_app(platform), free_port()) as url,
    ):
        yield platform, url, bank


def _wait_for(
    client: httpx2.Client, url: str, headers: dict[str, str], status: str
) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        order: dict[str, object] = client.get(url, headers=headers).json()
        if order["status"] == status or time.monotonic() > deadline:
            return order
        time.sleep(0.05)


def test_top_up_and_bank_payment_confirmed_by_callback(store: Store, tmp_path: Path) -> None:
    with (
        _city_and_bank(store, tmp_path, Decide.APPROVE) as (platform, url, bank),
        httpx2.Client() as client,
    ):
        headers = {
            "authorization": "Bearer " + platform.tokens.issue(CITIZEN, platform.clock.now()).token
        }
        issuer = {
            "authorization": "Bearer "
            + platform.tokens.issue(POWER_SYSTEM, platform.clock.now()).token
        }
        top = client.post(
            f"{url}/payment/wallet/top-ups",
            json={"request_id": "t-1", "amount_fen": 5000},
            headers=headers,
        ).json()
        assert top["status"] == "pending"
        assert top["bank_pay_url"].startswith(bank.base_url)
        done = _wait_for(client, f"{url}/payment/orders/{top['id']}", headers, "confirmed")
        assert done["status"] == "confirmed"
        assert client.get(f"{url}/payment/wallet", headers=headers).json()["balance_fen"] == 5000

        bill = client.post(
            f"{url}/payment/billers/electricity/bills",
            json={
                "bill_number": "E-77", "payer_kind": "citizen",
                "payer_identifier": CITIZEN.subject, "amount_fen": 1234,
                "period": "2026-10", "due_date": "2026-12-15",
            },
            headers=issuer,
        ).json()  # fmt: skip
        paid = client.post(
            f"{url}/payment/bills/{bill['id']}/pay",
            json={"request_id": "p-1", "method": "bank"},
            headers=headers,
        ).json()
        assert paid["status"] == "pending"
        done = _wait_for(client, f"{url}/payment/orders/{paid['id']}", headers, "confirmed")
        assert done["status"] == "confirmed"
        order = bank.orders[f"P{paid['id']:012d}"]
        assert order.delivered
        # The bank sends its callback again (as banks do): nothing changes.
        sent = order.callbacks_sent
        assert (
            client.post(f"{bank.base_url}/orders/{order.bank_reference}/resend").status_code == 200
        )
        deadline = time.monotonic() + 20
        while order.callbacks_sent == sent or not order.delivered:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        again = client.get(f"{url}/payment/orders/{paid['id']}", headers=headers).json()
        assert again["status"] == "confirmed"
        assert client.get(f"{url}/payment/wallet", headers=headers).json()["balance_fen"] == 5000


def test_declined_bank_payment_fails_and_the_bill_reopens(store: Store, tmp_path: Path) -> None:
    with (
        _city_and_bank(store, tmp_path, Decide.DECLINE) as (platform, url, _bank),
        httpx2.Client() as client,
    ):
        headers = {
            "authorization": "Bearer " + platform.tokens.issue(CITIZEN, platform.clock.now()).token
        }
        issuer = {
            "authorization": "Bearer "
            + platform.tokens.issue(POWER_SYSTEM, platform.clock.now()).token
        }
        bill = client.post(
            f"{url}/payment/billers/electricity/bills",
            json={
                "bill_number": "E-78", "payer_kind": "citizen",
                "payer_identifier": CITIZEN.subject, "amount_fen": 999,
                "period": "2026-10", "due_date": "2026-12-15",
            },
            headers=issuer,
        ).json()  # fmt: skip
        paid = client.post(
            f"{url}/payment/bills/{bill['id']}/pay",
            json={"request_id": "p-2", "method": "bank"},
            headers=headers,
        ).json()
        done = _wait_for(client, f"{url}/payment/orders/{paid['id']}", headers, "failed")
        assert done["status"] == "failed"
        reopened = client.get(f"{url}/payment/bills/{bill['id']}", headers=headers).json()
        assert reopened["status"] == "open"


def test_bank_refuses_unsigned_orders(tmp_path: Path) -> None:
    bank = Bank(secret=b"s" * 32)
    with _serving(create_bank_app(bank), free_port()) as url:
        answer = httpx2.post(f"{url}/orders", content=b'{"order_number": "P1"}')
        assert answer.status_code == 401
