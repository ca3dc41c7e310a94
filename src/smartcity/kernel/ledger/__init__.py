"""The ledger (统一支付账本): double-entry accounts and immutable transfers in fen.

Modelled on the guarantees TigerBeetle documents. Every amount is an integer number of
fen; ids are chosen by the caller (1..2^63-1) and make every request idempotent.

Inside a caller's transaction (``with store.begin() as conn``), so money moves
together with the caller's own rows or not at all:

- :func:`create_accounts` ``(conn, accounts, now) -> list[AccountError]``
- :func:`create_transfers` ``(conn, transfers, now) -> list[TransferError]``
- :func:`lookup_accounts`, :func:`lookup_transfers` ``(conn, ids)``,
  :func:`list_accounts`, :func:`account_transfers` ``(conn, account_id, ...)``
- :func:`expire_pending_transfers` ``(conn, now, limit=...)``: the expiry job
- :func:`verify_ledger` ``(conn) -> LedgerReport``

Each ``create_*`` call applies its events in order and returns a (index, result)
pair for every event that was not applied; an empty list means all were. A failed
event changes nothing. Events flagged ``linked`` form a chain with the next one:
all succeed or all fail (``linked_event_failed``). Sending an event again with the
same id and fields returns ``exists`` and changes nothing; the same id with other
fields returns ``exists_with_different_<field>``.

Transfers are never changed or deleted: a correction is a reversing transfer. A
``pending`` transfer reserves its amount; ``post_pending_transfer`` (all or part)
or ``void_pending_transfer`` resolves it once; one whose ``timeout`` has passed can
no longer be resolved (``pending_transfer_expired``) and the expiry job releases it.
An account flagged ``debits_must_not_exceed_credits`` can never be overdrawn;
a pending transfer flagged ``closing_debit``/``closing_credit`` closes an account.

:class:`Ledger` wraps these over a store and clock, one transaction per call.
:func:`raise_for_errors` turns failed events into domain errors (404/409/422).
See docs/kernel/ledger.md.
"""

from smartcity.kernel.ledger.accounts import create_accounts, list_accounts, lookup_accounts
from smartcity.kernel.ledger.expiry import Expiry, expire_pending_transfers
from smartcity.kernel.ledger.models import (
    INT64_MAX,
    LEDGER_CNY,
    Account,
    AccountFlags,
    Transfer,
    TransferFlags,
    datetime_of,
    timestamp_of,
)
from smartcity.kernel.ledger.results import (
    AccountError,
    CreateAccountResult,
    CreateTransferResult,
    TransferError,
    error_for,
    raise_for_errors,
)
from smartcity.kernel.ledger.service import Ledger
from smartcity.kernel.ledger.transfers import (
    account_transfers,
    create_transfers,
    lookup_transfers,
)
from smartcity.kernel.ledger.verify import (
    BalanceMismatch,
    LedgerReport,
    LedgerTotals,
    PendingProblem,
    verify_ledger,
)

__all__ = [
    "INT64_MAX",
    "LEDGER_CNY",
    "Account",
    "AccountError",
    "AccountFlags",
    "BalanceMismatch",
    "CreateAccountResult",
    "CreateTransferResult",
    "Expiry",
    "Ledger",
    "LedgerReport",
    "LedgerTotals",
    "PendingProblem",
    "Transfer",
    "TransferError",
    "TransferFlags",
    "account_transfers",
    "create_accounts",
    "create_transfers",
    "datetime_of",
    "error_for",
    "expire_pending_transfers",
    "list_accounts",
    "lookup_accounts",
    "lookup_transfers",
    "raise_for_errors",
    "timestamp_of",
    "verify_ledger",
]
