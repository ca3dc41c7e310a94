"""The re-issue fee, charged through the ledger in the issuing transaction.

The holder's wallet (:mod:`smartcity.kernel.ledger.wallets`) is debited and the
platform's certificate fee revenue account credited. The transfer id is derived from the
new certificate's serial, so a charge retried for the same certificate is the same ledger
transfer (``exists``), never a second debit. A wallet is never overdrawn: a wallet that
does not exist or holds too little refuses the issuance with a :class:`Conflict` asking
the holder to top up first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from smartcity.kernel.errors import Conflict
from smartcity.kernel.identity.certificates.holders import Holder
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    Account,
    CreateTransferResult,
    Transfer,
    create_accounts,
    create_transfers,
    lookup_accounts,
    raise_for_errors,
)
from smartcity.kernel.ledger.wallets import derived_id, wallet_account_id

FEE_REVENUE_CODE = 4001
"""Account code of the platform's fee revenue accounts."""
CERTIFICATE_FEE_CODE = 301
"""Transfer code of a certificate re-issue fee."""
FEE_REVENUE_ACCOUNT_ID = derived_id("platform", "fee-revenue", "certificate")
"""The account the certificate fees are credited to (created on first charge)."""


def fee_transfer_id(serial: str) -> int:
    """The ledger transfer that charges the fee of the certificate ``serial``."""
    return derived_id("platform", "certificate-fee", serial)


def open_fee_revenue_account(conn: Connection, now: datetime) -> int:
    """Create the certificate fee revenue account if it is missing (idempotent)."""
    account = Account(id=FEE_REVENUE_ACCOUNT_ID, ledger=LEDGER_CNY, code=FEE_REVENUE_CODE)
    raise_for_errors(create_accounts(conn, [account], now))
    return account.id


def charge_certificate_fee(
    conn: Connection, holder: Holder, fee_fen: int, serial: str, *, now: datetime
) -> int:
    """Debit ``fee_fen`` from ``holder``'s wallet for the certificate ``serial``.

    Runs inside the issuing transaction (pass it as the issuance's ``charge`` with
    ``now`` bound). Returns the ledger transfer id. :class:`Conflict` "top up first"
    when the wallet is missing or holds less than the fee.
    """
    wallet = wallet_account_id(holder.kind.value, holder.identifier)
    found = lookup_accounts(conn, [wallet])
    if not found:
        raise Conflict(
            f"a new certificate costs {fee_fen} fen and the wallet is empty: top up first",
            feeFen=fee_fen,
            balanceFen=0,
        )
    revenue = open_fee_revenue_account(conn, now)
    transfer_id = fee_transfer_id(serial)
    errors = create_transfers(
        conn,
        [
            Transfer(
                id=transfer_id,
                debit_account_id=wallet,
                credit_account_id=revenue,
                amount=fee_fen,
                ledger=LEDGER_CNY,
                code=CERTIFICATE_FEE_CODE,
                reference=f"certificate:{serial}"[:64],
            )
        ],
        now,
    )
    if errors and errors[0].result is CreateTransferResult.EXCEEDS_CREDITS:
        balance = found[0].available
        raise Conflict(
            f"a new certificate costs {fee_fen} fen and the wallet holds {balance}: top up first",
            feeFen=fee_fen,
            balanceFen=balance,
        )
    raise_for_errors(errors)
    return transfer_id
