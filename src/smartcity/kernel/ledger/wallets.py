"""Platform wallets: the ledger account every citizen and enterprise pays from.

One convention for the whole platform, so the payment app, the certificate authority and
anything else that charges a payer name the same account without asking each other. A
wallet's id is derived from whom it belongs to (64 bits of BLAKE2b over
``payment\\x1fwallet\\x1f<kind>\\x1f<identifier>``, masked to 1..2^63-1), so ids need no
counter shared by workers and opening a wallet twice is harmless (``exists``).

Wallets are in yuan fen (ledger 156), account code 1001, and flagged
``debits_must_not_exceed_credits``: a wallet is never overdrawn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.ledger.accounts import create_accounts
from smartcity.kernel.ledger.models import INT64_MAX, LEDGER_CNY, Account, AccountFlags
from smartcity.kernel.ledger.results import raise_for_errors

WALLET_CODE = 1001
"""Account code of a payer's wallet (the payment app's chart of accounts)."""
WALLET_KINDS = ("citizen", "enterprise")
"""Who holds a wallet: a citizen (by national ID) or an enterprise (by USCC)."""


def derived_id(namespace: str, *parts: str) -> int:
    """A stable ledger id (1..2^63-1) for what ``namespace`` and ``parts`` name.

    Two different names collide with a chance of about n²/2^64: negligible for billions.
    """
    text = "\x1f".join((namespace, *parts))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") & INT64_MAX) or 1


def wallet_account_id(kind: str, identifier: str) -> int:
    """The ledger account id of the wallet of a citizen (national ID) or enterprise (USCC)."""
    if kind not in WALLET_KINDS:
        raise InvalidInput(f"a wallet belongs to one of {', '.join(WALLET_KINDS)}", part="kind")
    return derived_id("payment", "wallet", kind, identifier)


def open_wallets(conn: Connection, payers: Sequence[tuple[str, str]], now: datetime) -> list[int]:
    """Open the wallets of ``payers`` (kind, identifier) in one ledger call; idempotent.

    Returns their account ids in order. Runs inside the caller's transaction.
    """
    wallets = [
        Account(
            id=wallet_account_id(kind, identifier),
            ledger=LEDGER_CNY,
            code=WALLET_CODE,
            flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        )
        for kind, identifier in payers
    ]
    raise_for_errors(create_accounts(conn, wallets, now))
    return [wallet.id for wallet in wallets]
