"""SIGKILL in the middle of a payment storm: nothing lost, nothing paid twice.

A real ``smartcity serve`` process takes wallet payments from several client threads,
each with its own request id; the test kills it with SIGKILL mid-storm, starts it
again on the same database, and retries every payment whose answer it did not get (and
every other one, to prove the retries are harmless). Then each bill must be paid by
exactly one order, every wallet must hold what it was given minus what it paid, and the
ledger's debits must equal its credits.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import httpx2
from sqlalchemy import func, select

from smartcity.apps import payment
from smartcity.apps.payment import postings
from smartcity.apps.payment.actions import issue_pending_receipts
from smartcity.apps.payment.models import Payer, PayerKind
from smartcity.apps.payment.sim import fund_wallets, issue_demo_bills
from smartcity.apps.payment.tables import payment_bill, payment_order, payment_receipt
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

PAYERS = 8
COPIES = 2  # bills per biller per payer: 8 x 7 x 2 = 112 bills
FUNDS_FEN = 10_000_000
THREADS = 6
KILL_AFTER = 25  # answered payments before the kill


def test_sigkill_mid_storm_loses_and_duplicates_nothing(store: Store, tmp_path: Path) -> None:
    residents = register_residents(store, PAYERS, born=date(1980, 1, 1), sequence=100)
    payers = [Payer(PayerKind.CITIZEN, national_id) for national_id in residents]
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase=CA_PASSPHRASE),
        apps=[payment.APP],
        store=store,
        migrate=False,
    )
    fund_wallets(platform, payers, FUNDS_FEN, tag="crash")
    issued = issue_demo_bills(platform, payers, period="2026-10", seed=7, copies=COPIES)
    with store.connect() as conn:
        bills = conn.execute(select(payment_bill).order_by(payment_bill.c.id)).all()
    assert len(bills) == issued == PAYERS * 7 * COPIES

    signer = TokenSigner(TOKEN_KEY)
    now = datetime.now(UTC)
    tokens = {
        p.identifier: signer.issue(
            Principal(1000 + i, AccountKind.CITIZEN, p.identifier), now
        ).token
        for i, p in enumerate(payers)
    }
    answered: dict[int, int] = {}  # bill id -> order id from a 200 answer
    refused: list[tuple[int, int, str]] = []
    lock = threading.Lock()
    killed = threading.Event()

    def storm(url: str, thread_number: int) -> None:
        with httpx2.Client(timeout=10) as client:
            for bill in bills[thread_number::THREADS]:
                if killed.is_set():
                    return
                try:
                    answer = client.post(
                        f"{url}/payment/bills/{bill.id}/pay",
                        json={"request_id": f"storm-{bill.id}", "method": "wallet"},
                        headers={"authorization": f"Bearer {tokens[bill.payer_identifier]}"},
                    )
                except httpx2.TransportError:
                    continue  # the answer was lost: retried after the restart
                with lock:
                    if answer.status_code == 200:
                        answered[bill.id] = answer.json()["id"]
                    else:
                        refused.append((bill.id, answer.status_code, answer.text))

    database_url = crash_database_url(tmp_path)
    with serve(database_url, tmp_path, ca_passphrase=CA_PASSPHRASE) as server:
        kill_mid_storm(
            server, storm, THREADS, answered=answered, kill_after=KILL_AFTER, killed=killed
        )
    assert refused == []
    before_restart = dict(answered)
    assert KILL_AFTER <= len(before_restart) < len(bills), "the kill must land mid-storm"

    with (
        serve(database_url, tmp_path, ca_passphrase=CA_PASSPHRASE) as server,
        httpx2.Client(timeout=10) as client,
    ):
        for bill in bills:
            answer = client.post(
                f"{server.url}/payment/bills/{bill.id}/pay",
                json={"request_id": f"storm-{bill.id}", "method": "wallet"},
                headers={"authorization": f"Bearer {tokens[bill.payer_identifier]}"},
            )
            assert answer.status_code == 200, answer.text
            order_id = answer.json()["id"]
            if bill.id in before_restart:
                assert order_id == before_restart[bill.id], "a retry must name the first order"
            answered[bill.id] = order_id

    with store.connect() as conn:
        orders = conn.execute(select(func.count()).select_from(payment_order)).scalar_one()
        paid = conn.execute(
            select(payment_bill.c.id, payment_bill.c.order_id).where(
                payment_bill.c.status == "paid"
            )
        ).all()
        assert orders == len(bills) + PAYERS  # one per bill, plus each payer's top-up
        assert {r.id: r.order_id for r in paid} == answered
        owed: dict[str, int] = {}
        for bill in bills:
            owed[bill.payer_identifier] = owed.get(bill.payer_identifier, 0) + bill.amount_fen
        wallets = {
            a.id: a
            for a in lookup_accounts(
                conn, [postings.wallet_account_id("citizen", p.identifier) for p in payers]
            )
        }
        for p in payers:
            wallet = wallets[postings.wallet_account_id("citizen", p.identifier)]
            assert wallet.balance == FUNDS_FEN - owed[p.identifier]
        report = verify_ledger(conn)
    assert report.ok, report
    # The operator's check, as a separate process: debits equal credits, balances add up.
    verified = subprocess.run(
        [sys.executable, "-m", "smartcity.cli", "ledger", "verify", "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # Receipts: signed in the background, some cut off by the kill; the sweep finishes them.
    issue_pending_receipts(platform, limit=len(bills))
    with store.connect() as conn:
        receipts = conn.execute(select(payment_receipt.c.bill_id)).scalars().all()
    assert sorted(receipts) == sorted(answered)
