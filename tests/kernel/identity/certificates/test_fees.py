"""The re-issue fee through the ledger: keyed to the serial, never an overdraft."""

from __future__ import annotations

import pytest

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.errors import Conflict
from smartcity.kernel.identity.certificates import Holder
from smartcity.kernel.identity.certificates.fees import (
    FEE_REVENUE_ACCOUNT_ID,
    charge_certificate_fee,
    fee_transfer_id,
)
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    Account,
    Transfer,
    create_accounts,
    create_transfers,
    lookup_accounts,
    raise_for_errors,
    verify_ledger,
)
from smartcity.kernel.ledger.wallets import open_wallets
from smartcity.kernel.storage import Store

SERIAL = "0123456789abcdef0123456789abcdef"


def _fund(store: Store, clock: FixedClock, holder: Holder, amount: int) -> int:
    now = clock.now()
    with store.begin() as conn:
        raise_for_errors(create_accounts(conn, [Account(id=5, ledger=LEDGER_CNY, code=3001)], now))
        (wallet,) = open_wallets(conn, [(holder.kind.value, holder.identifier)], now)
        transfer = Transfer(
            id=9,
            debit_account_id=5,
            credit_account_id=wallet,
            amount=amount,
            ledger=LEDGER_CNY,
            code=103,
        )
        raise_for_errors(create_transfers(conn, [transfer], now))
    return wallet


def test_a_retried_charge_for_the_same_certificate_debits_once(
    store: Store, citizen: Holder, clock: FixedClock
) -> None:
    wallet = _fund(store, clock, citizen, 5000)
    for _attempt in range(2):
        with store.begin() as conn:
            transfer = charge_certificate_fee(conn, citizen, 2000, SERIAL, now=clock.now())
    assert transfer == fee_transfer_id(SERIAL)
    with store.connect() as conn:
        paid, revenue = lookup_accounts(conn, [wallet, FEE_REVENUE_ACCOUNT_ID])
        assert verify_ledger(conn).ok
    assert (paid.balance, revenue.balance) == (3000, 2000)


def test_no_wallet_or_too_little_asks_to_top_up(
    store: Store, citizen: Holder, clock: FixedClock
) -> None:
    with pytest.raises(Conflict, match="top up first"), store.begin() as conn:
        charge_certificate_fee(conn, citizen, 2000, SERIAL, now=clock.now())
    _fund(store, clock, citizen, 100)
    with pytest.raises(Conflict, match="holds 100") as refused, store.begin() as conn:
        charge_certificate_fee(conn, citizen, 2000, SERIAL, now=clock.now())
    assert refused.value.details["balanceFen"] == 100
