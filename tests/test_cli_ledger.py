"""``smartcity ledger``: verify passes on honest books and fails on a tampered balance."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from smartcity.cli import app
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.ledger import LEDGER_CNY, Account, Ledger, Transfer, TransferFlags
from smartcity.kernel.storage import open_store

runner = CliRunner()


def test_ledger_verify_accounts_transfers_and_tampering(tmp_path: Path) -> None:
    database = tmp_path / "city.db"
    url = f"sqlite:///{database}"
    store = open_store(url)
    store.migrate()
    ledger = Ledger(store, FixedClock(datetime(2026, 11, 21, 9, tzinfo=UTC)))
    assert ledger.create_accounts([Account(1, LEDGER_CNY, 1), Account(2, LEDGER_CNY, 2)]) == []
    transfers = [
        Transfer(10, 1, 2, 123456, LEDGER_CNY, 1, reference="电费 2026-10"),
        Transfer(11, 1, 2, 500, LEDGER_CNY, 1, flags=TransferFlags.PENDING),
    ]
    assert ledger.create_transfers(transfers) == []
    store.close()

    intact = runner.invoke(app, ["ledger", "verify", "--database-url", url])
    assert intact.exit_code == 0, intact.output
    assert "ledger balances" in intact.output
    assert "1,234.56" in intact.output

    listed = runner.invoke(app, ["ledger", "accounts", "--database-url", url])
    assert listed.exit_code == 0, listed.output
    assert "1,234.56" in listed.output

    statement = runner.invoke(app, ["ledger", "transfers", "--account", "2", "--database-url", url])
    assert statement.exit_code == 0, statement.output
    assert "电费" in statement.output

    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE ledger_account SET credits_posted = credits_posted + 1 WHERE id = 2")
    broken = runner.invoke(app, ["ledger", "verify", "--database-url", url])
    assert broken.exit_code == 1
    assert "does not balance" in broken.output
    assert "account 2" in broken.output
