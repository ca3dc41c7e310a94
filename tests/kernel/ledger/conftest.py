"""Fixtures of the ledger tests: a ledger on the test store with a few accounts."""

from __future__ import annotations

import pytest

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.ledger import LEDGER_CNY, Account, AccountFlags, Ledger
from smartcity.kernel.storage import Store

CASH = 1  # an ordinary account: may go either way
BANK = 2  # another ordinary account
PURSE = 3  # a citizen's purse: no overdraft
FLOAT = 4  # credits must not exceed debits
DOLLARS = 5  # another ledger (USD)
USD = 840
CODE = 1


@pytest.fixture
def ledger(store: Store, clock: FixedClock) -> Ledger:
    book = Ledger(store, clock)
    errors = book.create_accounts(
        [
            Account(CASH, LEDGER_CNY, CODE),
            Account(BANK, LEDGER_CNY, CODE),
            Account(PURSE, LEDGER_CNY, CODE, flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
            Account(FLOAT, LEDGER_CNY, CODE, flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
            Account(DOLLARS, USD, CODE),
        ]
    )
    assert errors == []
    return book
