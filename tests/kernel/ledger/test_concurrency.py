"""Concurrent writers: batches from several threads never lose an update."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from smartcity.kernel.ledger import Ledger, Transfer, TransferFlags

from .conftest import BANK, CASH, PURSE
from .test_transfers import move

WRITERS = 4
BATCHES = 15
PER_BATCH = 10


def test_concurrent_batches_keep_every_balance_and_the_purse_limit(ledger: Ledger) -> None:
    assert ledger.create_transfers([move(1, CASH, PURSE, 500)]) == []

    def write(writer: int) -> int:
        accepted = 0
        for batch in range(BATCHES):
            base = 1000 + (writer * BATCHES + batch) * PER_BATCH * 2
            events: list[Transfer] = []
            for n in range(PER_BATCH):
                events.append(move(base + 2 * n, PURSE, BANK, 3))  # may run dry
                events.append(move(base + 2 * n + 1, CASH, BANK, 1, flags=TransferFlags.PENDING))
            errors = ledger.create_transfers(events)
            accepted += sum(
                1 for i in range(0, len(events), 2) if i not in {e.index for e in errors}
            )
        return accepted

    with ThreadPoolExecutor(WRITERS) as pool:
        spent = sum(pool.map(write, range(WRITERS))) * 3

    purse, bank = ledger.lookup_accounts([PURSE, BANK])
    assert purse.debits_posted == spent <= 500
    assert purse.balance >= 0
    assert bank.credits_pending == WRITERS * BATCHES * PER_BATCH
    assert ledger.verify().ok
