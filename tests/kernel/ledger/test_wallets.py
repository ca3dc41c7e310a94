"""The platform wallet convention shared by the payment app and the certificate fee."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.ledger import INT64_MAX, AccountFlags, lookup_accounts
from smartcity.kernel.ledger.wallets import WALLET_CODE, open_wallets, wallet_account_id
from smartcity.kernel.storage import Store


def _payment_convention(kind: str, identifier: str) -> int:
    # Written out again on purpose: the payment app derives the same id this way.
    text = "\x1f".join(("payment", "wallet", kind, identifier))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") & (2**63 - 1)) or 1


@given(
    kind=st.sampled_from(["citizen", "enterprise"]),
    identifier=st.text(min_size=1, max_size=24),
)
def test_wallet_id_follows_the_payment_convention(kind: str, identifier: str) -> None:
    wallet = wallet_account_id(kind, identifier)
    assert wallet == _payment_convention(kind, identifier)
    assert 1 <= wallet <= INT64_MAX


def test_known_wallet_id_is_stable() -> None:
    assert wallet_account_id("citizen", "44010619900101001X") == _payment_convention(
        "citizen", "44010619900101001X"
    )
    assert wallet_account_id("citizen", "A") != wallet_account_id("enterprise", "A")
    with pytest.raises(InvalidInput):
        wallet_account_id("staff", "GZ-GAJ-0001")


def test_open_wallets_is_idempotent_and_never_overdrawn(store: Store, clock: FixedClock) -> None:
    payers = [("citizen", "44010619900101001X"), ("enterprise", "91440106MA5D8K2L0X")]
    with store.begin() as conn:
        first = open_wallets(conn, payers, clock.now())
    with store.begin() as conn:
        again = open_wallets(conn, payers, clock.now())
        accounts = lookup_accounts(conn, first)
    assert first == again == [wallet_account_id(k, i) for k, i in payers]
    assert all(a.code == WALLET_CODE and a.ledger == 156 for a in accounts)
    assert all(a.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS for a in accounts)
