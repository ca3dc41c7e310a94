"""The ledger over a store: each call is one transaction of its own.

For callers with nothing else to write. Apps that move money as part of their own
work (a payment and its bill, a fee and its certificate) call the functions of
:mod:`smartcity.kernel.ledger` with the connection of their own transaction instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from smartcity.kernel.clock import Clock
from smartcity.kernel.ledger.accounts import create_accounts, list_accounts, lookup_accounts
from smartcity.kernel.ledger.expiry import Expiry, expire_pending_transfers
from smartcity.kernel.ledger.models import Account, Transfer
from smartcity.kernel.ledger.results import AccountError, TransferError
from smartcity.kernel.ledger.transfers import (
    account_transfers,
    create_transfers,
    lookup_transfers,
)
from smartcity.kernel.ledger.verify import LedgerReport, verify_ledger
from smartcity.kernel.storage import Store


class Ledger:
    """Accounts and transfers on ``store``, timestamps from ``clock``."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def create_accounts(self, accounts: Sequence[Account]) -> list[AccountError]:
        """Create accounts in one transaction; see :func:`create_accounts`."""
        with self.store.begin() as conn:
            return create_accounts(conn, accounts, self.clock.now())

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferError]:
        """Apply transfers in one transaction; see :func:`create_transfers`."""
        with self.store.begin() as conn:
            return create_transfers(conn, transfers, self.clock.now())

    def lookup_accounts(self, ids: Sequence[int]) -> list[Account]:
        with self.store.connect() as conn:
            return lookup_accounts(conn, ids)

    def list_accounts(
        self, *, ledger: int | None = None, after_id: int = 0, limit: int = 100
    ) -> list[Account]:
        with self.store.connect() as conn:
            return list_accounts(conn, ledger=ledger, after_id=after_id, limit=limit)

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        with self.store.connect() as conn:
            return lookup_transfers(conn, ids)

    def account_transfers(
        self, account_id: int, *, after: int = 0, limit: int = 100, newest_first: bool = False
    ) -> list[Transfer]:
        with self.store.connect() as conn:
            return account_transfers(
                conn, account_id, after=after, limit=limit, newest_first=newest_first
            )

    def expire_pending_transfers(self, *, limit: int = 10_000) -> tuple[int, ...]:
        """Expire every pending transfer past its deadline, ``limit`` per transaction."""
        expired: list[int] = []
        while True:
            with self.store.begin() as conn:
                run: Expiry = expire_pending_transfers(conn, self.clock.now(), limit=limit)
            expired.extend(run.expired)
            if len(run.expired) < limit:
                return tuple(expired)

    def verify(self) -> LedgerReport:
        """Verify the whole ledger from one consistent snapshot."""
        # A write transaction on SQLite, REPEATABLE READ on PostgreSQL: either way the
        # sums and the balances are read from the same instant.
        if self.store.dialect == "postgresql":
            with self.store.connect() as conn:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    return verify_ledger(conn)
        with self.store.connect() as conn, conn.begin():
            return verify_ledger(conn)
