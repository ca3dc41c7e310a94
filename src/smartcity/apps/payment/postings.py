"""The payment app's chart of accounts and every ledger posting it makes.

This is the one module that talks to the kernel ledger. Accounts and transfers get ids
derived from what they stand for (a payer's wallet, a biller's receivable account, the
client's request id of an order and the step of its flow), so a retried step names the
same ledger transfer again and the ledger answers ``exists`` instead of moving money a
second time. Every function takes the caller's open connection: the money moves in the
same transaction as the bill and order rows, or not at all.

Accounts (ledger 156, fen):

=================  ======  =====================================================
wallet             1001    a payer's platform wallet; never overdrawn
receivable         2001    what the platform collected for a biller, not yet settled
settlement         2002    what was settled to the biller (its bank account)
bank clearing      3001    money on its way in from the bank (debit balance)
=================  ======  =====================================================

Flows: a wallet payment is one posted transfer wallet -> receivable. A bank payment is
a pending transfer clearing -> receivable when the order is made, posted when the bank
confirms, voided when it fails or expires. A top-up is the same with the wallet as the
credit account. Daily settlement moves one day's confirmed sum receivable -> settlement.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from enum import IntEnum

from sqlalchemy import Connection

from smartcity.kernel.errors import Conflict, NotFound
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    Account,
    CreateTransferResult,
    Transfer,
    TransferFlags,
    create_accounts,
    create_transfers,
    lookup_accounts,
    raise_for_errors,
    wallets,
)


class AccountCode(IntEnum):
    WALLET = 1001
    RECEIVABLE = 2001
    SETTLEMENT = 2002
    BANK_CLEARING = 3001


class TransferCode(IntEnum):
    WALLET_PAYMENT = 101
    BANK_PAYMENT = 102
    TOP_UP = 103
    SETTLEMENT = 201


def derived_id(*parts: str) -> int:
    """A stable ledger id (1..2^63-1) for what ``parts`` name, in the payment namespace
    (the kernel's wallet convention, :mod:`smartcity.kernel.ledger.wallets`)."""
    return wallets.derived_id("payment", *parts)


# Remembered: a payer's wallet and a biller's accounts are looked up on every payment.
@functools.lru_cache(maxsize=65_536)
def wallet_account_id(payer_kind: str, payer_identifier: str) -> int:
    return wallets.wallet_account_id(payer_kind, payer_identifier)


@functools.lru_cache(maxsize=256)
def receivable_account_id(biller_code: str) -> int:
    return derived_id("receivable", biller_code)


def settlement_account_id(biller_code: str) -> int:
    return derived_id("settlement", biller_code)


BANK_CLEARING_ACCOUNT_ID = derived_id("bank-clearing")


def order_transfer_id(payer_kind: str, payer_identifier: str, request_id: str, step: str) -> int:
    """The transfer of one step (``pay``, ``post``, ``void``) of a payer's order."""
    return derived_id("order", payer_kind, payer_identifier, request_id, step)


def settlement_transfer_id(biller_code: str, business_date: date) -> int:
    return derived_id("settlement", biller_code, business_date.isoformat())


def open_biller_accounts(conn: Connection, biller_codes: Sequence[str], now: datetime) -> None:
    """Create the bank clearing account and each biller's two accounts (idempotent)."""
    accounts = [
        Account(id=BANK_CLEARING_ACCOUNT_ID, ledger=LEDGER_CNY, code=AccountCode.BANK_CLEARING)
    ]
    for code in biller_codes:
        accounts.append(
            Account(id=receivable_account_id(code), ledger=LEDGER_CNY, code=AccountCode.RECEIVABLE)
        )
        accounts.append(
            Account(id=settlement_account_id(code), ledger=LEDGER_CNY, code=AccountCode.SETTLEMENT)
        )
    raise_for_errors(create_accounts(conn, accounts, now))


def open_wallet(conn: Connection, payer_kind: str, payer_identifier: str, now: datetime) -> int:
    """The payer's wallet account, created on first use (never overdrawn)."""
    return open_wallets(conn, [(payer_kind, payer_identifier)], now)[0]


def open_wallets(conn: Connection, payers: Sequence[tuple[str, str]], now: datetime) -> list[int]:
    """The wallets of many payers (kind, identifier) in one ledger call (idempotent)."""
    return wallets.open_wallets(conn, payers, now)


def _apply(conn: Connection, transfer: Transfer, now: datetime) -> bool:
    """Apply one transfer; True if it was applied now, False if it already had been."""
    errors = create_transfers(conn, [transfer], now)
    if not errors:
        return True
    if errors[0].result == CreateTransferResult.EXCEEDS_CREDITS:
        raise Conflict(
            "the wallet holds less than the amount: top it up first",
            result=errors[0].result.value,
        )
    if errors[0].result == CreateTransferResult.DEBIT_ACCOUNT_NOT_FOUND:
        raise NotFound(
            "the payer has no wallet yet: top it up first", result=errors[0].result.value
        )
    raise_for_errors(errors)
    return False


def pay_from_wallet(
    conn: Connection,
    *,
    transfer_id: int,
    wallet_id: int,
    biller_code: str,
    amount_fen: int,
    order_id: int,
    now: datetime,
) -> bool:
    """Move ``amount_fen`` from the wallet to the biller's receivable account, posted."""
    transfer = Transfer(
        id=transfer_id,
        debit_account_id=wallet_id,
        credit_account_id=receivable_account_id(biller_code),
        amount=amount_fen,
        ledger=LEDGER_CNY,
        code=TransferCode.WALLET_PAYMENT,
        user_data=order_id,
    )
    return _apply(conn, transfer, now)


def reserve_from_bank(
    conn: Connection,
    *,
    transfer_id: int,
    credit_account_id: int,
    amount_fen: int,
    order_id: int,
    code: TransferCode,
    timeout_seconds: int,
    now: datetime,
) -> bool:
    """A pending transfer bank clearing -> ``credit_account_id`` that times out."""
    transfer = Transfer(
        id=transfer_id,
        debit_account_id=BANK_CLEARING_ACCOUNT_ID,
        credit_account_id=credit_account_id,
        amount=amount_fen,
        ledger=LEDGER_CNY,
        code=code,
        flags=TransferFlags.PENDING,
        timeout=timeout_seconds,
        user_data=order_id,
    )
    return _apply(conn, transfer, now)


def post_reserved(conn: Connection, *, transfer_id: int, pending_id: int, now: datetime) -> bool:
    """Post a pending bank transfer in full (the bank confirmed the money)."""
    transfer = Transfer(
        id=transfer_id, pending_id=pending_id, flags=TransferFlags.POST_PENDING_TRANSFER
    )
    return _apply(conn, transfer, now)


def void_reserved(conn: Connection, *, transfer_id: int, pending_id: int, now: datetime) -> bool:
    """Release a pending bank transfer (the bank refused the payment)."""
    transfer = Transfer(
        id=transfer_id, pending_id=pending_id, flags=TransferFlags.VOID_PENDING_TRANSFER
    )
    return _apply(conn, transfer, now)


def settle(
    conn: Connection, *, biller_code: str, business_date: date, amount_fen: int, now: datetime
) -> int:
    """Move a day's confirmed sum from the biller's receivable to its settlement account."""
    transfer_id = settlement_transfer_id(biller_code, business_date)
    transfer = Transfer(
        id=transfer_id,
        debit_account_id=receivable_account_id(biller_code),
        credit_account_id=settlement_account_id(biller_code),
        amount=amount_fen,
        ledger=LEDGER_CNY,
        code=TransferCode.SETTLEMENT,
        reference=business_date.isoformat(),
    )
    _apply(conn, transfer, now)
    return transfer_id


def balances(conn: Connection, account_ids: Sequence[int]) -> dict[int, Account]:
    """The ledger accounts among ``account_ids`` that exist, by id."""
    return {account.id: account for account in lookup_accounts(conn, account_ids)}
