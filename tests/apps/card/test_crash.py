"""SIGKILL in the middle of a tap storm: no tap lost, none charged twice.

A real ``smartcity serve`` takes shop taps from several terminals at once, each with its
own transaction id; the test kills it with SIGKILL mid-storm, starts it again on the
same database and sends every tap again (those whose answer was lost, and the others,
to prove retries are harmless). Then every tap is recorded once, each purse holds what
it was given minus what its taps cost, and the ledger's debits equal its credits.
The server and its helpers are in tests/crash.py, shared with the payment crash test.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import func, select

from smartcity.apps import card, payment, portal
from smartcity.apps.card.actions import issue_cards
from smartcity.apps.card.models import Purse
from smartcity.apps.card.postings import purse_account_id
from smartcity.apps.card.sim import card_numbers, fund_purses
from smartcity.apps.card.tables import card_tap
from smartcity.kernel.config import Settings
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.ledger import lookup_accounts, verify_ledger
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from tests.apps.payment.conftest import CA_PASSPHRASE
from tests.crash import (
    TOKEN_KEY,
    crash_database_url,
    kill_mid_storm,
    register_residents,
    serve,
)

HOLDERS = 8
TAPS = 160
THREADS = 6
FUNDS_FEN = 1_000_000
KILL_AFTER = 30


def _tap(index: int, numbers: list[str]) -> dict[str, Any]:
    return {
        "transaction_id": f"storm-{index}",
        "kind": "shop",
        "card_number": numbers[index % len(numbers)],
        "amount_fen": 100 + index,
    }


def test_sigkill_mid_tap_storm_loses_and_duplicates_nothing(store: Store, tmp_path: Path) -> None:
    holders = register_residents(store, HOLDERS, born=date(1981, 2, 1), sequence=200)
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase=CA_PASSPHRASE),
        apps=[payment.APP, portal.APP, card.APP],  # the card's page section needs the portal
        store=store,
        migrate=False,
    )
    issue_cards(platform, holders)
    fund_purses(platform, FUNDS_FEN, tag="crash")
    numbers = card_numbers(platform)
    terminals = [
        TokenSigner(TOKEN_KEY)
        .issue(
            Principal(
                3000 + t, AccountKind.MACHINE, f"till-{t}", scopes=frozenset({"card.terminal"})
            ),
            datetime.now(UTC),
        )
        .token
        for t in range(THREADS)
    ]
    answered: dict[int, int] = {}  # tap index -> charged fen from a 200 answer
    refused: list[tuple[int, int, str]] = []
    lock = threading.Lock()
    killed = threading.Event()

    def storm(url: str, terminal: int) -> None:
        with httpx2.Client(timeout=10) as client:
            for index in range(terminal, TAPS, THREADS):
                if killed.is_set():
                    return
                try:
                    answer = client.post(
                        f"{url}/api/card/taps",
                        json=_tap(index, numbers),
                        headers={"authorization": f"Bearer {terminals[terminal]}"},
                    )
                except httpx2.TransportError:
                    continue  # the answer was lost: retried after the restart
                with lock:
                    if answer.status_code == 200 and answer.json()["outcome"] == "approved":
                        answered[index] = answer.json()["charged_fen"]
                    else:
                        refused.append((index, answer.status_code, answer.text))

    database_url = crash_database_url(tmp_path)
    with serve(database_url, tmp_path, ca_passphrase=CA_PASSPHRASE) as server:
        kill_mid_storm(
            server, storm, THREADS, answered=answered, kill_after=KILL_AFTER, killed=killed
        )
    assert refused == []
    assert KILL_AFTER <= len(answered) < TAPS, "the kill must land mid-storm"

    with (
        serve(database_url, tmp_path, ca_passphrase=CA_PASSPHRASE) as server,
        httpx2.Client(timeout=10) as client,
    ):
        for index in range(TAPS):
            answer = client.post(
                f"{server.url}/api/card/taps",
                json=_tap(index, numbers),
                headers={"authorization": f"Bearer {terminals[index % THREADS]}"},
            )
            assert answer.status_code == 200, answer.text
            tap = answer.json()
            assert tap["outcome"] == "approved"
            assert tap["charged_fen"] == 100 + index
            if index in answered:
                assert answered[index] == tap["charged_fen"]

    with store.connect() as conn:
        recorded = conn.execute(select(func.count()).select_from(card_tap)).scalar_one()
        assert recorded == TAPS
        owed: dict[str, int] = {}
        for index in range(TAPS):
            number = numbers[index % len(numbers)]
            owed[number] = owed.get(number, 0) + 100 + index
        purses = {
            a.id: a.balance
            for a in lookup_accounts(conn, [purse_account_id(n, Purse.TRANSIT) for n in numbers])
        }
        for number in numbers:
            assert purses[purse_account_id(number, Purse.TRANSIT)] == FUNDS_FEN - owed[number]
        report = verify_ledger(conn)
    assert report.ok, report
    verified = subprocess.run(
        [sys.executable, "-m", "smartcity.cli", "ledger", "verify", "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
