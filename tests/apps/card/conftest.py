"""A platform with the card app, registered citizens, a funded wallet and the callers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.identity import make_citizen_id, register_citizen
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.ledger import LEDGER_CNY, Account, Transfer, create_accounts, create_transfers
from smartcity.kernel.ledger.wallets import derived_id, open_wallets, wallet_account_id
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

TODAY = date(2026, 11, 21)
CITIZEN_ID = make_citizen_id("440106", date(1990, 1, 1), 123).text
OTHER_CITIZEN_ID = make_citizen_id("440106", date(1985, 5, 5), 77).text
UNREGISTERED_ID = make_citizen_id("440104", date(1970, 3, 3), 11).text

CITIZEN = Principal(101, AccountKind.CITIZEN, CITIZEN_ID)
OTHER_CITIZEN = Principal(102, AccountKind.CITIZEN, OTHER_CITIZEN_ID)
CARD_OFFICER = Principal(
    201, AccountKind.STAFF, "GZ-RSJ-0001", department_code="GZ-RSJ", roles=frozenset({"officer"})
)
GATE = Principal(301, AccountKind.MACHINE, "gate-tiyu-xilu-01", scopes=frozenset({"card.terminal"}))
BUS = Principal(302, AccountKind.MACHINE, "bus-b1-0007", scopes=frozenset({"card.terminal"}))
BANK_ID = derived_id("test", "bank")


@dataclass
class CardWorld:
    platform: Platform
    client: TestClient
    clock: FixedClock

    def auth(self, principal: Principal) -> dict[str, str]:
        token = self.platform.tokens.issue(principal, self.clock.now()).token
        return {"authorization": f"Bearer {token}"}

    def fund_wallet(self, national_id: str, amount: int, transfer_id: int = 1) -> None:
        """Money into the citizen's platform wallet (as a bank top-up would)."""
        now = self.clock.now()
        with self.platform.store.begin() as conn:
            open_wallets(conn, [("citizen", national_id)], now)
            create_accounts(conn, [Account(id=BANK_ID, ledger=LEDGER_CNY, code=3001)], now)
            errors = create_transfers(
                conn,
                [
                    Transfer(
                        id=derived_id("test", "fund", national_id, str(transfer_id)),
                        debit_account_id=BANK_ID,
                        credit_account_id=wallet_account_id("citizen", national_id),
                        amount=amount,
                        ledger=LEDGER_CNY,
                        code=103,
                    )
                ],
                now,
            )
            assert errors == []

    def issue(self, national_id: str = CITIZEN_ID) -> dict[str, Any]:
        answer = self.client.post(
            "/api/card/cards", json={"national_id": national_id}, headers=self.auth(CARD_OFFICER)
        )
        assert answer.status_code == 201, answer.text
        card: dict[str, Any] = answer.json()
        return card

    def top_up(self, amount: int, request_id: str = "top-1", principal: Principal = CITIZEN) -> Any:
        return self.client.post(
            "/api/card/mine/top-ups",
            json={"request_id": request_id, "amount_fen": amount},
            headers=self.auth(principal),
        )

    def tap(self, terminal: Principal = BUS, **body: Any) -> Any:
        body.setdefault("kind", "bus")
        return self.client.post("/api/card/taps", json=body, headers=self.auth(terminal))

    def mine(self, principal: Principal = CITIZEN) -> dict[str, Any]:
        answer = self.client.get("/api/card/mine", headers=self.auth(principal))
        assert answer.status_code == 200, answer.text
        card: dict[str, Any] = answer.json()
        return card


def transit_balance(card: dict[str, Any]) -> int:
    return next(int(p["balance_fen"]) for p in card["purses"] if p["purse"] == "transit")


@pytest.fixture
def world(store: Store, tmp_path: Path, clock: FixedClock) -> Iterator[CardWorld]:
    for national_id, name in ((CITIZEN_ID, "陈小明"), (OTHER_CITIZEN_ID, "李华")):
        register_citizen(
            store,
            national_id=national_id,
            name=name,
            community_code="440106001002",
            grid_code="440106001002003",
            today=TODAY,
        )
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase="card tests passphrase"),
        apps=installed_apps(),
        store=store,
        clock=clock,
        migrate=False,
    )
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        yield CardWorld(platform=platform, client=client, clock=clock)
