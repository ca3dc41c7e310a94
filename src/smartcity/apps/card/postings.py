"""The card app's chart of accounts and its ledger postings.

The one module of the app that talks to the kernel ledger. Every account and transfer
id is derived from what it stands for (a card's purse, a terminal's transaction, a
citizen's top-up request, a reissue), so a retry names the same transfer and the
ledger answers ``exists`` instead of moving money twice.

Accounts (ledger 156, fen):

=================  ======  ==================================================
transit purse      1101    a card's stored value for gates, buses and shops
e-wallet purse     1102    a card's bank-linked e-wallet
fare revenue       2101    what the bus, metro and shop operators were paid
counter cash       3101    cash paid in at service counters (debit balance)
=================  ======  ==================================================

Flows: a top-up moves money from the citizen's platform wallet (the kernel wallet
convention, :mod:`smartcity.kernel.ledger.wallets`) into a purse; a tap moves the
charged fare from the transit purse to the revenue account of its kind; a reissue moves
each purse's balance from the old card to the new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import IntEnum

from sqlalchemy import Connection

from smartcity.apps.card.fares import TapKind
from smartcity.apps.card.models import Purse
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    Account,
    AccountFlags,
    Transfer,
    create_accounts,
    lookup_accounts,
    raise_for_errors,
    wallets,
)


class AccountCode(IntEnum):
    TRANSIT_PURSE = 1101
    E_WALLET_PURSE = 1102
    FARE_REVENUE = 2101
    COUNTER_CASH = 3101


class TransferCode(IntEnum):
    TOP_UP = 111
    TAP = 112
    REISSUE = 113
    COUNTER_TOP_UP = 114


_PURSE_CODES = {
    Purse.TRANSIT: AccountCode.TRANSIT_PURSE,
    Purse.E_WALLET: AccountCode.E_WALLET_PURSE,
}


def derived_id(*parts: str) -> int:
    """A stable ledger id in the card namespace (the kernel's wallet convention)."""
    return wallets.derived_id("card", *parts)


def purse_account_id(card_number: str, purse: Purse) -> int:
    return derived_id("purse", card_number, purse.value)


def revenue_account_id(kind: TapKind) -> int:
    return derived_id("revenue", kind.value)


def citizen_wallet_id(national_id: str) -> int:
    return wallets.wallet_account_id("citizen", national_id)


COUNTER_CASH_ACCOUNT_ID = derived_id("counter-cash")


def counter_top_up_transfer_id(card_number: str, tag: str) -> int:
    return derived_id("counter-top-up", card_number, tag)


def counter_top_up(card_number: str, tag: str, amount_fen: int) -> Transfer:
    """Cash paid in at a service counter (or a demo city's opening balance) to the transit purse."""
    return Transfer(
        id=counter_top_up_transfer_id(card_number, tag),
        debit_account_id=COUNTER_CASH_ACCOUNT_ID,
        credit_account_id=purse_account_id(card_number, Purse.TRANSIT),
        amount=amount_fen,
        ledger=LEDGER_CNY,
        code=TransferCode.COUNTER_TOP_UP,
    )


def top_up_transfer_id(national_id: str, request_id: str) -> int:
    return derived_id("top-up", national_id, request_id)


def tap_transfer_id(terminal_id: str, transaction_id: str) -> int:
    return derived_id("tap", terminal_id, transaction_id)


def reissue_transfer_id(old_number: str, purse: Purse) -> int:
    return derived_id("reissue", old_number, purse.value)


def open_card_accounts(conn: Connection, card_numbers: Sequence[str], now: datetime) -> None:
    """The purses of ``card_numbers`` and the revenue accounts (idempotent)."""
    accounts = [
        Account(id=revenue_account_id(kind), ledger=LEDGER_CNY, code=AccountCode.FARE_REVENUE)
        for kind in TapKind
    ]
    accounts.append(
        Account(id=COUNTER_CASH_ACCOUNT_ID, ledger=LEDGER_CNY, code=AccountCode.COUNTER_CASH)
    )
    for number in card_numbers:
        for purse, code in _PURSE_CODES.items():
            accounts.append(
                Account(
                    id=purse_account_id(number, purse),
                    ledger=LEDGER_CNY,
                    code=code,
                    flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                )
            )
    raise_for_errors(create_accounts(conn, accounts, now))


def top_up(
    transfer_id: int, national_id: str, card_number: str, purse: Purse, amount_fen: int
) -> Transfer:
    return Transfer(
        id=transfer_id,
        debit_account_id=citizen_wallet_id(national_id),
        credit_account_id=purse_account_id(card_number, purse),
        amount=amount_fen,
        ledger=LEDGER_CNY,
        code=TransferCode.TOP_UP,
    )


def tap(transfer_id: int, card_number: str, kind: TapKind, amount_fen: int) -> Transfer:
    return Transfer(
        id=transfer_id,
        debit_account_id=purse_account_id(card_number, Purse.TRANSIT),
        credit_account_id=revenue_account_id(kind),
        amount=amount_fen,
        ledger=LEDGER_CNY,
        code=TransferCode.TAP,
    )


def reissue(old_number: str, new_number: str, purse: Purse, amount_fen: int) -> Transfer:
    return Transfer(
        id=reissue_transfer_id(old_number, purse),
        debit_account_id=purse_account_id(old_number, purse),
        credit_account_id=purse_account_id(new_number, purse),
        amount=amount_fen,
        ledger=LEDGER_CNY,
        code=TransferCode.REISSUE,
        reference=new_number,
    )


def purse_balances(conn: Connection, card_numbers: Iterable[str]) -> dict[tuple[str, Purse], int]:
    """The balance of every purse of ``card_numbers`` that exists."""
    ids = {
        purse_account_id(number, purse): (number, purse)
        for number in card_numbers
        for purse in Purse
    }
    return {ids[a.id]: a.balance for a in lookup_accounts(conn, list(ids))}
