"""A platform with the payment app, a stand-in bank, registered payers and their tokens."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.apps.payment.actions import runtime_of
from smartcity.apps.payment.bank_gateway import BankOrder
from smartcity.apps.payment.bank_protocol import signed_headers
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.identity import (
    make_citizen_id,
    make_uscc,
    register_citizen,
    register_enterprise,
)
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

TODAY = date(2026, 11, 21)
CA_PASSPHRASE = "payment tests passphrase"
CITIZEN_ID = make_citizen_id("440106", date(1990, 1, 1), 123).text
OTHER_CITIZEN_ID = make_citizen_id("440106", date(1985, 5, 5), 77).text
ENTERPRISE_USCC = make_uscc("9", "1", "440106", "MA5C0000").text
REPRESENTATIVE_ID = make_citizen_id("440104", date(1970, 3, 3), 11).text

CITIZEN = Principal(101, AccountKind.CITIZEN, CITIZEN_ID)
OTHER_CITIZEN = Principal(102, AccountKind.CITIZEN, OTHER_CITIZEN_ID)
ENTERPRISE = Principal(103, AccountKind.ENTERPRISE, ENTERPRISE_USCC)
POWER_SYSTEM = Principal(
    201,
    AccountKind.MACHINE,
    "power-billing",
    department_code="GZ-GDJ",
    scopes=frozenset({"payment.bill"}),
)
WATER_STAFF = Principal(
    202, AccountKind.STAFF, "GZ-ZLS-0001", department_code="GZ-ZLS", roles=frozenset({"officer"})
)
SUPERVISOR = Principal(
    203, AccountKind.STAFF, "GZ-CZJ-0001", department_code="GZ-CZJ", roles=frozenset({"supervisor"})
)


@dataclass
class StandInBank:
    """Records the orders the platform makes; tests send the callbacks themselves."""

    base_url: str = "http://bank.test"
    orders: dict[str, tuple[str, int]] = field(default_factory=dict)
    refuse: bool = False
    _references: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def create_order(
        self,
        *,
        order_number: str,
        amount_fen: int,
        callback_url: str,
        description: str,
        timestamp: int,
    ) -> BankOrder:
        from smartcity.apps.payment.bank_gateway import BankUnavailable

        if self.refuse:
            raise BankUnavailable("the bank did not answer: test")
        if order_number not in self.orders:
            self.orders[order_number] = (f"B{next(self._references):06d}", amount_fen)
        reference = self.orders[order_number][0]
        return BankOrder(bank_reference=reference, pay_url=f"{self.base_url}/pay/{reference}")


@dataclass
class PaymentWorld:
    platform: Platform
    client: TestClient
    bank: StandInBank
    clock: FixedClock

    def auth(self, principal: Principal) -> dict[str, str]:
        token = self.platform.tokens.issue(principal, self.clock.now()).token
        return {"authorization": f"Bearer {token}"}

    def callback(self, order_number: str, status: str, *, amount_fen: int | None = None) -> object:
        reference, amount = self.bank.orders[order_number]
        body = orjson.dumps(
            {
                "order_number": order_number,
                "bank_reference": reference,
                "status": status,
                "amount_fen": amount if amount_fen is None else amount_fen,
            }
        )
        secret = runtime_of(self.platform).bank_secret
        headers = signed_headers(secret, body, int(self.clock.now().timestamp()))
        return self.client.post("/payment/bank/callback", content=body, headers=headers)

    def issue(
        self,
        principal: Principal = POWER_SYSTEM,
        biller: str = "electricity",
        *,
        number: str = "E-0001",
        payer: str = CITIZEN_ID,
        kind: str = "citizen",
        amount: int = 12345,
    ) -> dict[str, object]:
        answer = self.client.post(
            f"/payment/billers/{biller}/bills",
            json={
                "bill_number": number,
                "payer_kind": kind,
                "payer_identifier": payer,
                "amount_fen": amount,
                "period": "2026-10",
                "due_date": "2026-12-15",
                "reference": "M-889",
            },
            headers=self.auth(principal),
        )
        assert answer.status_code in (200, 201), answer.text
        result: dict[str, object] = answer.json()
        return result

    def top_up(self, principal: Principal, amount: int, request_id: str = "top-1") -> None:
        answer = self.client.post(
            "/payment/wallet/top-ups",
            json={"request_id": request_id, "amount_fen": amount},
            headers=self.auth(principal),
        )
        assert answer.status_code == 200, answer.text
        order = answer.json()
        confirmed = self.callback(f"P{order['id']:012d}", "confirmed")
        assert confirmed.status_code == 200, confirmed.text  # type: ignore[attr-defined]


def register_payers(store: Store) -> None:
    for national_id, name in (
        (CITIZEN_ID, "陈小明"),
        (OTHER_CITIZEN_ID, "李华"),
        (REPRESENTATIVE_ID, "王强"),
    ):
        register_citizen(
            store,
            national_id=national_id,
            name=name,
            community_code="440106001002",
            grid_code="440106001002003",
            today=TODAY,
        )
    register_enterprise(
        store,
        uscc=ENTERPRISE_USCC,
        name="广州示例科技有限公司",
        legal_representative=REPRESENTATIVE_ID,
        industry="软件",
        registered_at=date(2015, 6, 1),
        today=TODAY,
    )


@pytest.fixture
def world(
    store: Store, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PaymentWorld]:
    monkeypatch.setenv("SMARTCITY_PAYMENT_RECEIPTS", "on_demand")
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
