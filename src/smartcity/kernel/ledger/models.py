"""The ledger's values: accounts, transfers and their flags.

Both kinds are frozen dataclasses used in two directions: a caller builds one with the
fields it chooses (balances and ``timestamp`` left at zero, the ledger sets them), and
lookups return them with every field filled in. Money is integer fen.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntFlag

from smartcity.kernel.errors import InvalidInput

INT64_MAX = 2**63 - 1
"""Largest id, amount and balance: everything is stored as a signed 64-bit integer."""
INT32_MAX = 2**31 - 1
"""Largest ``ledger`` and ``code``."""
REFERENCE_LENGTH = 64
"""Longest ``reference`` (a bill number, an order number, a card serial)."""
LEDGER_CNY = 156
"""The ISO 4217 number of the yuan: the ledger of every account in fen."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NANOSECONDS_PER_SECOND = 1_000_000_000


class AccountFlags(IntFlag):
    """What an account allows. ``closed`` is set and cleared by closing transfers only."""

    NONE = 0
    LINKED = 1 << 0
    """This event succeeds or fails together with the next one in the batch."""
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1 << 1
    """No overdraft: debits (pending + posted) stay within posted credits (a purse)."""
    CREDITS_MUST_NOT_EXCEED_DEBITS = 1 << 2
    """The mirror rule, for accounts whose normal balance is a debit (a bank's float)."""
    HISTORY = 1 << 3
    """Keep the account's balance history (kept for every account: transfers are immutable)."""
    CLOSED = 1 << 5
    """No new transfers touch it; set by a closing transfer, cleared when that is voided."""


class TransferFlags(IntFlag):
    """What kind of transfer this is."""

    NONE = 0
    LINKED = 1 << 0
    """This event succeeds or fails together with the next one in the batch."""
    PENDING = 1 << 1
    """Reserve the amount (first phase); post or void it later, or let it time out."""
    POST_PENDING_TRANSFER = 1 << 2
    """Move a pending transfer's amount (all, or part) to posted."""
    VOID_PENDING_TRANSFER = 1 << 3
    """Release a pending transfer's amount."""
    CLOSING_DEBIT = 1 << 6
    """(pending only) close the debit account while this transfer holds."""
    CLOSING_CREDIT = 1 << 7
    """(pending only) close the credit account while this transfer holds."""


# Plain ints: ``~`` on an IntFlag member keeps only the known bits, which would hide
# the unknown ones these masks exist to find.
ACCOUNT_FLAGS_KNOWN = int(
    AccountFlags.LINKED
    | AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
    | AccountFlags.HISTORY
    | AccountFlags.CLOSED
)
TRANSFER_FLAGS_KNOWN = int(
    TransferFlags.LINKED
    | TransferFlags.PENDING
    | TransferFlags.POST_PENDING_TRANSFER
    | TransferFlags.VOID_PENDING_TRANSFER
    | TransferFlags.CLOSING_DEBIT
    | TransferFlags.CLOSING_CREDIT
)


@dataclass(frozen=True, slots=True)
class Account:
    """A double-entry account in one ledger (currency).

    ``id`` is chosen by the caller (1..2^63-1) and makes creation idempotent. ``code``
    says what kind of account it is (a citizen's purse, a biller's receivable, ...), as
    the caller's chart of accounts defines. ``user_data`` and ``reference`` are the
    caller's to use (an owner id, an external number); the ledger never reads them.
    """

    id: int
    ledger: int
    code: int
    flags: int = AccountFlags.NONE
    user_data: int = 0
    reference: str = ""
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0
    timestamp: int = 0
    """Nanoseconds since the Unix epoch, set by the ledger when the account was created."""

    @property
    def balance(self) -> int:
        """Posted credits minus posted debits (what a purse holds)."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """Posted credits minus all debits, pending included (what a purse may still spend)."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def closed(self) -> bool:
        return bool(self.flags & AccountFlags.CLOSED)


@dataclass(frozen=True, slots=True)
class Transfer:
    """An immutable movement of ``amount`` fen from a debit account to a credit account.

    ``id`` is chosen by the caller (1..2^63-1): sending the same transfer again is
    harmless (result ``exists``). For ``post_pending_transfer`` and
    ``void_pending_transfer`` the accounts, ledger and code may be left at zero (taken
    from the pending transfer named by ``pending_id``), and ``amount`` zero means the
    whole pending amount. ``timeout`` (seconds, pending only; zero = never) lets a
    pending transfer expire.
    """

    id: int
    debit_account_id: int = 0
    credit_account_id: int = 0
    amount: int = 0
    ledger: int = 0
    code: int = 0
    flags: int = TransferFlags.NONE
    pending_id: int = 0
    timeout: int = 0
    user_data: int = 0
    reference: str = ""
    timestamp: int = 0
    """Nanoseconds since the Unix epoch, set by the ledger when the transfer was created."""


def timestamp_of(now: datetime) -> int:
    """A ledger timestamp (integer nanoseconds since the epoch) for an aware datetime."""
    return (now - _EPOCH) // timedelta(microseconds=1) * 1000


def datetime_of(timestamp: int) -> datetime:
    """The UTC datetime of a ledger timestamp (to the microsecond)."""
    return _EPOCH + timedelta(microseconds=timestamp // 1000)


def seconds_to_nanoseconds(seconds: int) -> int:
    return seconds * _NANOSECONDS_PER_SECOND


_ACCOUNT_INTEGERS = (
    "id",
    "ledger",
    "code",
    "flags",
    "user_data",
    "debits_pending",
    "debits_posted",
    "credits_pending",
    "credits_posted",
    "timestamp",
)
_TRANSFER_INTEGERS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "ledger",
    "code",
    "flags",
    "pending_id",
    "timeout",
    "user_data",
    "timestamp",
)

# One C-level call per event for all its integer fields.
_transfer_integers = operator.attrgetter(*_TRANSFER_INTEGERS)
_account_integers = operator.attrgetter(*_ACCOUNT_INTEGERS)


def check_types(events: Sequence[Account] | Sequence[Transfer]) -> None:
    """Refuse a batch holding anything but integers (and a text reference).

    Money is integer fen: a float or Decimal amount is a caller's bug, and SQLite would
    store it as a float without complaint. Ranges are per-event results instead.
    """
    for index, event in enumerate(events):
        names: tuple[str, ...]
        if isinstance(event, Transfer):
            names, values = _TRANSFER_INTEGERS, _transfer_integers(event)
        elif isinstance(event, Account):
            names, values = _ACCOUNT_INTEGERS, _account_integers(event)
        else:
            raise InvalidInput(f"event {index}: expected an Account or a Transfer")
        # Plain ints (the usual case) pass on one type test; IntEnum codes and flags
        # take the full one.
        for name, value in zip(names, values, strict=True):
            if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
                raise InvalidInput(
                    f"event {index}: {name} must be an integer (money in fen), "
                    f"not {type(value).__name__}",
                    index=index,
                    field=name,
                )
        if not isinstance(event.reference, str):
            raise InvalidInput(f"event {index}: reference must be text", index=index)
