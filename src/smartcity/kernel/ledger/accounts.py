"""Creating and reading accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.ledger.chains import Journal, run_events
from smartcity.kernel.ledger.models import (
    ACCOUNT_FLAGS_KNOWN,
    INT32_MAX,
    INT64_MAX,
    REFERENCE_LENGTH,
    Account,
    AccountFlags,
    check_types,
    timestamp_of,
)
from smartcity.kernel.ledger.results import AccountError
from smartcity.kernel.ledger.results import CreateAccountResult as R
from smartcity.kernel.ledger.rows import (
    ACCOUNT_COLUMNS,
    account_of,
    account_values,
    insert_many,
    select_accounts,
)
from smartcity.kernel.ledger.tables import ledger_account

# ``closed`` changes with closing transfers, so a retried creation ignores it.
_COMPARED_FLAGS = ACCOUNT_FLAGS_KNOWN & ~int(AccountFlags.CLOSED)
_LIMITS = int(
    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
)


class _Batch:
    def __init__(self, known: dict[int, Account], first_timestamp: int) -> None:
        self.known = known
        self.first_timestamp = first_timestamp
        self.created: list[Account] = []
        self.journal = Journal()

    def apply(self, index: int, a: Account) -> R:
        flags = int(a.flags)
        if flags & ~ACCOUNT_FLAGS_KNOWN:
            return R.RESERVED_FLAG
        if a.timestamp != 0:
            return R.TIMESTAMP_MUST_BE_ZERO
        if a.id == 0:
            return R.ID_MUST_NOT_BE_ZERO
        if a.id < 0 or a.id > INT64_MAX:
            return R.ID_OUT_OF_RANGE
        existing = self.known.get(a.id)
        if existing is not None:
            return _compare(a, existing)
        if flags & _LIMITS == _LIMITS:
            return R.FLAGS_ARE_MUTUALLY_EXCLUSIVE
        if flags & AccountFlags.CLOSED:
            return R.CLOSED_FLAG_MUST_NOT_BE_SET
        if a.debits_pending:
            return R.DEBITS_PENDING_MUST_BE_ZERO
        if a.debits_posted:
            return R.DEBITS_POSTED_MUST_BE_ZERO
        if a.credits_pending:
            return R.CREDITS_PENDING_MUST_BE_ZERO
        if a.credits_posted:
            return R.CREDITS_POSTED_MUST_BE_ZERO
        if a.ledger == 0:
            return R.LEDGER_MUST_NOT_BE_ZERO
        if a.ledger < 0 or a.ledger > INT32_MAX:
            return R.LEDGER_OUT_OF_RANGE
        if a.code == 0:
            return R.CODE_MUST_NOT_BE_ZERO
        if a.code < 0 or a.code > INT32_MAX:
            return R.CODE_OUT_OF_RANGE
        if a.user_data < 0 or a.user_data > INT64_MAX:
            return R.USER_DATA_OUT_OF_RANGE
        if len(a.reference) > REFERENCE_LENGTH:
            return R.REFERENCE_TOO_LONG
        account = Account(
            id=a.id,
            ledger=a.ledger,
            code=a.code,
            flags=flags,
            user_data=a.user_data,
            reference=a.reference,
            timestamp=self.first_timestamp + index,
        )
        self.known[a.id] = account
        self.created.append(account)
        if self.journal.active:

            def undo() -> None:
                del self.known[account.id]
                self.created.pop()

            self.journal.record(undo)
        return R.OK


def _compare(a: Account, e: Account) -> R:
    if int(a.flags) & _COMPARED_FLAGS != int(e.flags) & _COMPARED_FLAGS:
        return R.EXISTS_WITH_DIFFERENT_FLAGS
    if a.user_data != e.user_data:
        return R.EXISTS_WITH_DIFFERENT_USER_DATA
    if a.reference != e.reference:
        return R.EXISTS_WITH_DIFFERENT_REFERENCE
    if a.ledger != e.ledger:
        return R.EXISTS_WITH_DIFFERENT_LEDGER
    if a.code != e.code:
        return R.EXISTS_WITH_DIFFERENT_CODE
    return R.EXISTS


def create_accounts(
    conn: Connection, accounts: Sequence[Account], now: datetime
) -> list[AccountError]:
    """Create a batch of accounts inside the caller's transaction.

    Returns one :class:`AccountError` per event not applied (or applied before:
    ``exists``); an empty list means every account was created.
    """
    if not accounts:
        return []
    check_types(accounts)
    if now.tzinfo is None:
        raise InvalidInput("the ledger needs a timezone-aware time")
    ids = [a.id for a in accounts if 0 < a.id <= INT64_MAX]
    known = {a.id: a for a in select_accounts(conn, ids)}
    batch = _Batch(known, timestamp_of(now))
    failures = run_events(
        accounts,
        is_linked=lambda a: bool(a.flags & AccountFlags.LINKED),
        apply=batch.apply,
        journal=batch.journal,
        ok=R.OK,
        chain_failed=R.LINKED_EVENT_FAILED,
        chain_open=R.LINKED_EVENT_CHAIN_OPEN,
    )
    insert_many(conn, ledger_account, ACCOUNT_COLUMNS, [account_values(a) for a in batch.created])
    return [AccountError(index, result) for index, result in failures]


def lookup_accounts(conn: Connection, ids: Sequence[int]) -> list[Account]:
    """The accounts with these ids, in the order asked; unknown ids are left out."""
    found = {a.id: a for a in select_accounts(conn, [i for i in ids if 0 < i <= INT64_MAX])}
    return [found[i] for i in ids if i in found]


def list_accounts(
    conn: Connection, *, ledger: int | None = None, after_id: int = 0, limit: int = 100
) -> list[Account]:
    """Accounts in id order, optionally of one ledger; ``after_id`` pages on."""
    if limit < 1 or limit > 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    query = select(ledger_account).where(ledger_account.c.id > after_id)
    if ledger is not None:
        query = query.where(ledger_account.c.ledger == ledger)
    query = query.order_by(ledger_account.c.id).limit(limit)
    return [account_of(row) for row in conn.execute(query)]
