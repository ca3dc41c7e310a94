"""Benchmark: ledger transfers per second in batches, beside a raw executemany baseline.

    uv run python bench/ledger.py [--postgres-url URL | --no-postgres] [--batch 8000] [--rounds 10]

For SQLite (a temporary file) and PostgreSQL (``--postgres-url``; default the test
cluster that ``scripts/pg-test-cluster start`` prints), opens ``--accounts`` purses with
the no-overdraft flag, funds them, then applies ``--rounds`` batches of ``--batch``
transfers through ``create_transfers`` (nine in ten posted purse-to-purse payments, one
in ten a pending transfer that the next batch posts). Each batch is one transaction:
one read of the accounts it touches, checks in memory, one INSERT batch, one UPDATE
batch. In the same run, the very same transfer rows are written with a raw driver-level
executemany into a scratch copy of ``ledger_transfer`` (same columns and indexes, no
checks, no balances): the floor the ledger's bookkeeping is measured against. Figures
are medians over rounds; ``verify_ok`` is the verification of the whole ledger after.

Ids start from the wall clock in nanoseconds, so runs never collide and nothing is
deleted from the ledger tables.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Index, MetaData, Table, delete
from sqlalchemy.exc import OperationalError

from smartcity.kernel.clock import RealClock
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    Account,
    AccountFlags,
    Ledger,
    Transfer,
    TransferFlags,
)
from smartcity.kernel.ledger.rows import TRANSFER_COLUMNS, transfer_values
from smartcity.kernel.ledger.tables import ledger_transfer
from smartcity.kernel.storage import open_store

RESULTS = Path(__file__).resolve().parent / "results" / "ledger.json"
DEFAULT_POSTGRES_URL = "postgresql://smartcity@127.0.0.1:55432/smartcity"
SEED = 20261121
PURSE_CODE, BANK_CODE, PAYMENT_CODE = 10, 20, 1
FUNDING = 10_000_000_00  # ten million yuan per purse, in fen


def _scratch_table(name: str) -> Table:
    """A copy of ledger_transfer (columns and indexes) with nothing pointing at it."""
    scratch = MetaData()
    table = Table(name, scratch)
    for column in ledger_transfer.columns:
        table.append_column(column._copy())
    for number, index in enumerate(sorted(ledger_transfer.indexes, key=lambda i: str(i.name))):
        columns = [table.c[c.name] for c in index.columns]
        Index(f"{name}_ix{number}", *columns, unique=bool(index.unique))
    return table


def _batches(
    base: int, purses: list[int], batch: int, rounds: int, rng: random.Random
) -> list[list[Transfer]]:
    """Rounds of transfers; a tenth of each round are pending, posted by the next round."""
    next_id = base
    held: list[int] = []
    out: list[list[Transfer]] = []
    for _ in range(rounds):
        events: list[Transfer] = []
        for pending_id in held:
            events.append(
                Transfer(next_id, pending_id=pending_id, flags=TransferFlags.POST_PENDING_TRANSFER)
            )
            next_id += 1
        held = []
        while len(events) < batch:
            debit, credit = rng.sample(purses, 2)
            amount = rng.randint(1, 50_000)
            flags = TransferFlags.PENDING if rng.random() < 0.1 else TransferFlags.NONE
            events.append(
                Transfer(next_id, debit, credit, amount, LEDGER_CNY, PAYMENT_CODE, flags=flags)
            )
            if flags:
                held.append(next_id)
            next_id += 1
        out.append(events)
    return out


def bench_ledger(database_url: str, *, accounts: int, batch: int, rounds: int) -> dict[str, Any]:
    store = open_store(database_url)
    store.migrate()
    ledger = Ledger(store, RealClock())
    rng = random.Random(SEED)
    base = time.time_ns() // 1_000_000 * 1_000_000  # unique per run, far below 2^63
    bank = base
    purses = [base + 1 + n for n in range(accounts)]
    no_overdraft = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    opened = ledger.create_accounts(
        [Account(bank, LEDGER_CNY, BANK_CODE)]
        + [Account(p, LEDGER_CNY, PURSE_CODE, flags=no_overdraft) for p in purses]
    )
    if opened:
        raise RuntimeError(f"opening accounts failed: {opened[:3]}")
    funded = ledger.create_transfers(
        [
            Transfer(base + n, bank, p, FUNDING, LEDGER_CNY, PAYMENT_CODE)
            for n, p in enumerate(purses)
        ]
    )
    if funded:
        raise RuntimeError(f"funding failed: {funded[:3]}")
    work = _batches(base + accounts + 1, purses, batch, rounds, rng)

    scratch = _scratch_table(f"bench_raw_transfer_{base % 1_000_000_007}")
    scratch.metadata.create_all(store.engine)
    mark = "?" if store.dialect == "sqlite" else "%s"
    raw_sql = (
        f"INSERT INTO {scratch.name} ({', '.join(TRANSFER_COLUMNS)}) "
        f"VALUES ({', '.join(mark for _ in TRANSFER_COLUMNS)})"
    )
    ledger_rates: list[float] = []
    raw_rates: list[float] = []
    failures = 0
    try:
        for events in work:
            started = time.perf_counter()
            errors = ledger.create_transfers(events)
            ledger_rates.append(len(events) / (time.perf_counter() - started))
            failures += len(errors)
            # The raw floor: the same rows, prepared beforehand, no checks, no balances.
            rows = [transfer_values(t) for t in ledger.lookup_transfers([t.id for t in events])]
            started = time.perf_counter()
            with store.begin() as conn:
                conn.exec_driver_sql(raw_sql, rows)  # type: ignore[arg-type]
            raw_rates.append(len(rows) / (time.perf_counter() - started))
            with store.begin() as conn:
                conn.execute(delete(scratch))
        report = ledger.verify()
    finally:
        scratch.metadata.drop_all(store.engine)
        store.close()
    ledger_rate = statistics.median(ledger_rates)
    raw_rate = statistics.median(raw_rates)
    return {
        "batch_transfers_per_s": round(ledger_rate),
        "raw_executemany_transfers_per_s": round(raw_rate),
        "batch_fraction_of_raw": round(ledger_rate / raw_rate, 3),
        "batch_size": batch,
        "rounds": rounds,
        "accounts": accounts,
        "failed_events": failures,
        "verify_ok": report.ok,
        "ledger_accounts_verified": report.accounts,
        "ledger_transfers_verified": report.transfers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sqlite-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=8000)
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    sqlite_url = options.sqlite_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'ledger.db'}"
    figures: dict[str, Any] = {
        "sqlite": bench_ledger(
            sqlite_url, accounts=options.accounts, batch=options.batch, rounds=options.rounds
        )
    }
    if not options.no_postgres:
        try:
            figures["postgres"] = bench_ledger(
                options.postgres_url,
                accounts=options.accounts,
                batch=options.batch,
                rounds=options.rounds,
            )
        except OperationalError as exc:  # no cluster running: say so, keep SQLite's figures
            figures["postgres"] = {"skipped": f"cannot connect: {str(exc).splitlines()[0]}"}
    figures["verify_ok"] = all(f.get("verify_ok", True) for f in figures.values())
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
