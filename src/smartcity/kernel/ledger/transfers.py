"""Creating and reading transfers: the heart of the ledger.

A batch is applied in three steps inside the caller's transaction: one read of every
account, transfer and pending state the batch refers to; every event checked and
applied in memory, in order (so later events see earlier ones, and linked chains can
be undone); then one batched INSERT of the new transfers and one batched UPDATE of
the balances that moved. A failed event never leaves a trace, and if anything raises,
the caller's transaction rolls back the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.ledger.chains import Journal, run_events
from smartcity.kernel.ledger.models import (
    INT32_MAX,
    INT64_MAX,
    REFERENCE_LENGTH,
    TRANSFER_FLAGS_KNOWN,
    Account,
    AccountFlags,
    Transfer,
    TransferFlags,
    check_types,
    seconds_to_nanoseconds,
    timestamp_of,
)
from smartcity.kernel.ledger.results import CreateTransferResult as R
from smartcity.kernel.ledger.results import TransferError
from smartcity.kernel.ledger.rows import (
    BALANCE_COLUMNS,
    PENDING_COLUMNS,
    TRANSFER_COLUMNS,
    insert_many,
    select_accounts,
    select_pending,
    select_transfers,
    transfer_of,
    transfer_values,
    update_many,
)
from smartcity.kernel.ledger.tables import ledger_account, ledger_pending, ledger_transfer

PENDING = "pending"
POSTED = "posted"
VOIDED = "voided"
EXPIRED = "expired"

_LINKED = int(TransferFlags.LINKED)
_PENDING = int(TransferFlags.PENDING)
_POST = int(TransferFlags.POST_PENDING_TRANSFER)
_VOID = int(TransferFlags.VOID_PENDING_TRANSFER)
_CLOSING_DEBIT = int(TransferFlags.CLOSING_DEBIT)
_CLOSING_CREDIT = int(TransferFlags.CLOSING_CREDIT)
_CLOSED = int(AccountFlags.CLOSED)
_DEBITS_LIMITED = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CREDITS_LIMITED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)


class Balance:
    """An account's mutable balances while a batch is applied."""

    __slots__ = (
        "credits_pending",
        "credits_posted",
        "debits_pending",
        "debits_posted",
        "flags",
        "id",
        "ledger",
    )

    def __init__(self, account: Account) -> None:
        self.id = account.id
        self.ledger = account.ledger
        self.flags = int(account.flags)
        self.debits_pending = account.debits_pending
        self.debits_posted = account.debits_posted
        self.credits_pending = account.credits_pending
        self.credits_posted = account.credits_posted

    def snapshot(self) -> tuple[int, int, int, int, int]:
        return (
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
            self.flags,
        )

    def restore(self, values: tuple[int, int, int, int, int]) -> None:
        (
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
            self.flags,
        ) = values


class PendingState:
    """Where a pending transfer stands: pending, posted, voided or expired."""

    __slots__ = ("expires_at", "resolved_at", "status", "stored")

    def __init__(
        self, status: str, expires_at: int | None, resolved_at: int | None, *, stored: bool
    ) -> None:
        self.status = status
        self.expires_at = expires_at
        self.resolved_at = resolved_at
        self.stored = stored


def _row_head(t: Transfer) -> tuple[int, int, int, int, int, int]:
    return (t.id, t.debit_account_id, t.credit_account_id, t.amount, t.ledger, t.code)


def _bad_id(value: int) -> bool:
    return value < 0 or value > INT64_MAX


class _Batch:
    """The in-memory state of one create_transfers call."""

    def __init__(
        self,
        transfers: dict[int, Transfer],
        balances: dict[int, Balance],
        pending: dict[int, PendingState],
        first_timestamp: int,
        clock: int,
    ) -> None:
        self.transfers = transfers
        self.balances = balances
        self.pending = pending
        self.first_timestamp = first_timestamp
        # Deadlines follow the clock itself, not timestamps nudged past the last batch.
        self.clock = clock
        self.created: list[tuple[Any, ...]] = []  # rows to insert
        self.moved: set[int] = set()
        self.resolved: set[int] = set()
        self.journal = Journal()

    # -- the checks, in the order of CreateTransferResult ---------------------------

    def apply(self, index: int, t: Transfer) -> R:
        flags = int(t.flags)
        if flags & ~TRANSFER_FLAGS_KNOWN:
            return R.RESERVED_FLAG
        if t.timestamp != 0:
            return R.TIMESTAMP_MUST_BE_ZERO
        if t.id == 0:
            return R.ID_MUST_NOT_BE_ZERO
        if _bad_id(t.id):
            return R.ID_OUT_OF_RANGE
        existing = self.transfers.get(t.id)
        if existing is not None:
            return self._compare(t, existing)
        kinds = (flags & _PENDING) + (flags & _POST) + (flags & _VOID)
        if kinds not in (0, _PENDING, _POST, _VOID):
            return R.FLAGS_ARE_MUTUALLY_EXCLUSIVE
        if t.user_data < 0 or t.user_data > INT64_MAX:
            return R.USER_DATA_OUT_OF_RANGE
        if len(t.reference) > REFERENCE_LENGTH:
            return R.REFERENCE_TOO_LONG
        timestamp = self.first_timestamp + index
        if flags & (_POST | _VOID):
            return self._resolve(t, flags, timestamp)
        return self._create(t, flags, timestamp)

    def _create(self, t: Transfer, flags: int, timestamp: int) -> R:
        if t.pending_id != 0:
            return R.PENDING_ID_MUST_BE_ZERO
        if t.debit_account_id == 0:
            return R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO
        if _bad_id(t.debit_account_id):
            return R.DEBIT_ACCOUNT_ID_OUT_OF_RANGE
        if t.credit_account_id == 0:
            return R.CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO
        if _bad_id(t.credit_account_id):
            return R.CREDIT_ACCOUNT_ID_OUT_OF_RANGE
        if t.debit_account_id == t.credit_account_id:
            return R.ACCOUNTS_MUST_BE_DIFFERENT
        pending = bool(flags & _PENDING)
        if t.timeout != 0 and not pending:
            return R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
        if t.timeout < 0 or t.timeout > INT32_MAX:
            return R.TIMEOUT_OUT_OF_RANGE
        if flags & (_CLOSING_DEBIT | _CLOSING_CREDIT) and not pending:
            return R.CLOSING_TRANSFER_MUST_BE_PENDING
        amount = t.amount
        if amount == 0:
            return R.AMOUNT_MUST_NOT_BE_ZERO
        if amount < 0:
            return R.AMOUNT_MUST_NOT_BE_NEGATIVE
        if amount > INT64_MAX:
            return R.AMOUNT_OUT_OF_RANGE
        if t.ledger == 0:
            return R.LEDGER_MUST_NOT_BE_ZERO
        if t.ledger < 0 or t.ledger > INT32_MAX:
            return R.LEDGER_OUT_OF_RANGE
        if t.code == 0:
            return R.CODE_MUST_NOT_BE_ZERO
        if t.code < 0 or t.code > INT32_MAX:
            return R.CODE_OUT_OF_RANGE
        debit = self.balances.get(t.debit_account_id)
        if debit is None:
            return R.DEBIT_ACCOUNT_NOT_FOUND
        credit = self.balances.get(t.credit_account_id)
        if credit is None:
            return R.CREDIT_ACCOUNT_NOT_FOUND
        if debit.ledger != credit.ledger:
            return R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER
        if t.ledger != debit.ledger:
            return R.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS
        if debit.flags & _CLOSED:
            return R.DEBIT_ACCOUNT_ALREADY_CLOSED
        if credit.flags & _CLOSED:
            return R.CREDIT_ACCOUNT_ALREADY_CLOSED
        if pending:
            if debit.debits_pending + amount > INT64_MAX:
                return R.OVERFLOWS_DEBITS_PENDING
            if credit.credits_pending + amount > INT64_MAX:
                return R.OVERFLOWS_CREDITS_PENDING
        else:
            if debit.debits_posted + amount > INT64_MAX:
                return R.OVERFLOWS_DEBITS_POSTED
            if credit.credits_posted + amount > INT64_MAX:
                return R.OVERFLOWS_CREDITS_POSTED
        debits = debit.debits_pending + debit.debits_posted + amount
        credits = credit.credits_pending + credit.credits_posted + amount
        if debits > INT64_MAX:
            return R.OVERFLOWS_DEBITS
        if credits > INT64_MAX:
            return R.OVERFLOWS_CREDITS
        expires_at = None
        if t.timeout:
            expires_at = self.clock + seconds_to_nanoseconds(t.timeout)
            if expires_at > INT64_MAX:
                return R.OVERFLOWS_TIMEOUT
        if debit.flags & _DEBITS_LIMITED and debits > debit.credits_posted:
            return R.EXCEEDS_CREDITS
        if credit.flags & _CREDITS_LIMITED and credits > credit.debits_posted:
            return R.EXCEEDS_DEBITS

        self._remember(debit)
        self._remember(credit)
        if pending:
            debit.debits_pending += amount
            credit.credits_pending += amount
            if flags & _CLOSING_DEBIT:
                debit.flags |= _CLOSED
            if flags & _CLOSING_CREDIT:
                credit.flags |= _CLOSED
            self._add_pending(t.id, PendingState(PENDING, expires_at, None, stored=False))
        else:
            debit.debits_posted += amount
            credit.credits_posted += amount
        # The event itself is what later events compare against (same fields; the
        # timestamp is never compared), so only the row needs the timestamp.
        self._add(t, (*_row_head(t), flags, None, t.timeout, t.user_data, t.reference, timestamp))
        return R.OK

    def _resolve(self, t: Transfer, flags: int, timestamp: int) -> R:
        if t.pending_id == 0:
            return R.PENDING_ID_MUST_NOT_BE_ZERO
        if _bad_id(t.pending_id):
            return R.PENDING_ID_OUT_OF_RANGE
        if t.pending_id == t.id:
            return R.PENDING_ID_MUST_BE_DIFFERENT
        if t.timeout != 0:
            return R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
        if flags & (_CLOSING_DEBIT | _CLOSING_CREDIT):
            return R.CLOSING_TRANSFER_MUST_BE_PENDING
        if t.amount < 0:
            return R.AMOUNT_MUST_NOT_BE_NEGATIVE
        if t.amount > INT64_MAX:
            return R.AMOUNT_OUT_OF_RANGE
        held = self.transfers.get(t.pending_id)
        if held is None:
            return R.PENDING_TRANSFER_NOT_FOUND
        if not held.flags & _PENDING:
            return R.PENDING_TRANSFER_NOT_PENDING
        if t.debit_account_id and t.debit_account_id != held.debit_account_id:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID
        if t.credit_account_id and t.credit_account_id != held.credit_account_id:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID
        if t.ledger and t.ledger != held.ledger:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER
        if t.code and t.code != held.code:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_CODE
        posting = bool(flags & _POST)
        amount = t.amount or held.amount
        if posting and amount > held.amount:
            return R.EXCEEDS_PENDING_TRANSFER_AMOUNT
        if not posting and amount != held.amount:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT
        state = self.pending[held.id]
        if state.status == POSTED:
            return R.PENDING_TRANSFER_ALREADY_POSTED
        if state.status == VOIDED:
            return R.PENDING_TRANSFER_ALREADY_VOIDED
        if state.status == EXPIRED or (
            state.expires_at is not None and self.clock >= state.expires_at
        ):
            return R.PENDING_TRANSFER_EXPIRED
        debit = self.balances[held.debit_account_id]
        credit = self.balances[held.credit_account_id]
        if posting:
            # A closed account takes no new postings, except the closing transfer's own.
            if debit.flags & _CLOSED and not held.flags & _CLOSING_DEBIT:
                return R.DEBIT_ACCOUNT_ALREADY_CLOSED
            if credit.flags & _CLOSED and not held.flags & _CLOSING_CREDIT:
                return R.CREDIT_ACCOUNT_ALREADY_CLOSED
            if debit.debits_posted + amount > INT64_MAX:
                return R.OVERFLOWS_DEBITS_POSTED
            if credit.credits_posted + amount > INT64_MAX:
                return R.OVERFLOWS_CREDITS_POSTED

        self._remember(debit)
        self._remember(credit)
        debit.debits_pending -= held.amount
        credit.credits_pending -= held.amount
        if posting:
            debit.debits_posted += amount
            credit.credits_posted += amount
        else:
            # Voiding a closing transfer reopens what it closed.
            if held.flags & _CLOSING_DEBIT:
                debit.flags &= ~_CLOSED
            if held.flags & _CLOSING_CREDIT:
                credit.flags &= ~_CLOSED
        self._set_status(held.id, state, POSTED if posting else VOIDED, timestamp)
        resolution = Transfer(
            id=t.id,
            debit_account_id=held.debit_account_id,
            credit_account_id=held.credit_account_id,
            amount=amount,
            ledger=held.ledger,
            code=held.code,
            flags=flags,
            pending_id=held.id,
            user_data=t.user_data,
            reference=t.reference,
            timestamp=timestamp,
        )
        self._add(resolution, transfer_values(resolution))
        return R.OK

    def _compare(self, t: Transfer, e: Transfer) -> R:
        """Same id again: ``exists`` if it is the same transfer, else what differs."""
        if int(t.flags) != int(e.flags):
            return R.EXISTS_WITH_DIFFERENT_FLAGS
        if t.pending_id != e.pending_id:
            return R.EXISTS_WITH_DIFFERENT_PENDING_ID
        if t.timeout != e.timeout:
            return R.EXISTS_WITH_DIFFERENT_TIMEOUT
        # A post or void may leave accounts, ledger, code (and amount: all of it) to
        # the pending transfer; zero then matches what was filled in.
        inherits = bool(e.flags & (_POST | _VOID))
        if t.debit_account_id != e.debit_account_id and not (inherits and t.debit_account_id == 0):
            return R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID
        if t.credit_account_id != e.credit_account_id and not (
            inherits and t.credit_account_id == 0
        ):
            return R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID
        if t.amount != e.amount and not (inherits and t.amount == 0 and self._was_whole(e)):
            return R.EXISTS_WITH_DIFFERENT_AMOUNT
        if t.user_data != e.user_data:
            return R.EXISTS_WITH_DIFFERENT_USER_DATA
        if t.reference != e.reference:
            return R.EXISTS_WITH_DIFFERENT_REFERENCE
        if t.ledger != e.ledger and not (inherits and t.ledger == 0):
            return R.EXISTS_WITH_DIFFERENT_LEDGER
        if t.code != e.code and not (inherits and t.code == 0):
            return R.EXISTS_WITH_DIFFERENT_CODE
        return R.EXISTS

    def _was_whole(self, e: Transfer) -> bool:
        held = self.transfers.get(e.pending_id)
        return held is not None and held.amount == e.amount

    # -- changes, each with its undo step while a chain is open ----------------------

    def _remember(self, balance: Balance) -> None:
        self.moved.add(balance.id)
        if self.journal.active:
            saved = balance.snapshot()
            self.journal.record(lambda: balance.restore(saved))

    def _add(self, transfer: Transfer, row: tuple[Any, ...]) -> None:
        self.transfers[transfer.id] = transfer
        self.created.append(row)
        if self.journal.active:

            def undo() -> None:
                del self.transfers[transfer.id]
                self.created.pop()

            self.journal.record(undo)

    def _add_pending(self, transfer_id: int, state: PendingState) -> None:
        self.pending[transfer_id] = state
        if self.journal.active:

            def undo() -> None:
                del self.pending[transfer_id]

            self.journal.record(undo)

    def _set_status(self, transfer_id: int, state: PendingState, status: str, at: int) -> None:
        if self.journal.active:
            before = (state.status, state.resolved_at)
            self.journal.record(lambda: _put_back(state, before))
        state.status = status
        state.resolved_at = at
        self.resolved.add(transfer_id)


def _put_back(state: PendingState, before: tuple[str, int | None]) -> None:
    state.status, state.resolved_at = before


def next_timestamp(conn: Connection, now: datetime) -> int:
    """The first timestamp of a new batch: the clock's, but never behind the last batch."""
    if now.tzinfo is None:
        raise InvalidInput("the ledger needs a timezone-aware time")
    clock = timestamp_of(now)
    last = conn.execute(select(func.max(ledger_transfer.c.timestamp))).scalar()
    return clock if last is None or clock > last else last + 1


def create_transfers(
    conn: Connection, transfers: Sequence[Transfer], now: datetime
) -> list[TransferError]:
    """Apply a batch of transfers inside the caller's transaction.

    Returns one :class:`TransferError` per event that was not applied (or had been
    already: ``exists``); an empty list means every transfer was created. Events are
    applied in order, each seeing the ones before it.
    """
    if not transfers:
        return []
    check_types(transfers)
    first_timestamp = next_timestamp(conn, now)
    clock = timestamp_of(now)
    ids = {t.id for t in transfers if 0 < t.id <= INT64_MAX}
    pending_ids = {t.pending_id for t in transfers if 0 < t.pending_id <= INT64_MAX}
    known = {t.id: t for t in select_transfers(conn, ids | pending_ids)}
    # Lock pending states before the accounts they move (the expiry job's order too).
    held = [i for i in pending_ids if i in known and known[i].flags & _PENDING]
    pending = {
        transfer_id: PendingState(status, expires_at, resolved_at, stored=True)
        for transfer_id, status, expires_at, resolved_at in select_pending(conn, held, lock=True)
    }
    account_ids: set[int] = set()
    for t in transfers:
        account_ids.add(t.debit_account_id)
        account_ids.add(t.credit_account_id)
    for i in held:
        account_ids.add(known[i].debit_account_id)
        account_ids.add(known[i].credit_account_id)
    account_ids = {i for i in account_ids if 0 < i <= INT64_MAX}
    balances = {a.id: Balance(a) for a in select_accounts(conn, account_ids, lock=True)}

    batch = _Batch(known, balances, pending, first_timestamp, clock)
    failures = run_events(
        transfers,
        is_linked=lambda t: bool(int(t.flags) & _LINKED),
        apply=batch.apply,
        journal=batch.journal,
        ok=R.OK,
        chain_failed=R.LINKED_EVENT_FAILED,
        chain_open=R.LINKED_EVENT_CHAIN_OPEN,
    )
    _write(conn, batch)
    return [TransferError(index, result) for index, result in failures]


def _write(conn: Connection, batch: _Batch) -> None:
    insert_many(conn, ledger_transfer, TRANSFER_COLUMNS, batch.created)
    new_pending = [
        (transfer_id, state.status, state.expires_at, state.resolved_at)
        for transfer_id, state in batch.pending.items()
        if not state.stored
    ]
    insert_many(conn, ledger_pending, PENDING_COLUMNS, new_pending)
    changed = [
        (state.status, state.resolved_at, transfer_id)
        for transfer_id in sorted(batch.resolved)
        # A pending transfer created and resolved by an undone chain is gone.
        if (state := batch.pending.get(transfer_id)) is not None and state.stored
    ]
    update_many(conn, ledger_pending, "transfer_id", ("status", "resolved_at"), changed)
    moved = [batch.balances[i] for i in sorted(batch.moved)]
    update_many(
        conn,
        ledger_account,
        "id",
        BALANCE_COLUMNS,
        [(*b.snapshot(), b.id) for b in moved],
    )


def lookup_transfers(conn: Connection, ids: Sequence[int]) -> list[Transfer]:
    """The transfers with these ids, in the order asked; unknown ids are left out."""
    found = {t.id: t for t in select_transfers(conn, [i for i in ids if 0 < i <= INT64_MAX])}
    return [found[i] for i in ids if i in found]


def account_transfers(
    conn: Connection,
    account_id: int,
    *,
    after: int = 0,
    limit: int = 100,
    newest_first: bool = False,
) -> list[Transfer]:
    """An account's transfers (debits and credits) in timestamp order: its statement.

    ``after`` is a timestamp to page from (exclusive; before it when ``newest_first``).
    """
    if limit < 1 or limit > 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    t = ledger_transfer.c
    query = select(ledger_transfer).where(
        or_(t.debit_account_id == account_id, t.credit_account_id == account_id)
    )
    if newest_first:
        if after:
            query = query.where(t.timestamp < after)
        query = query.order_by(t.timestamp.desc(), t.id.desc())
    else:
        query = query.where(t.timestamp > after).order_by(t.timestamp, t.id)
    return [transfer_of(row) for row in conn.execute(query.limit(limit))]
