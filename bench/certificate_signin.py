"""Benchmark: certificate sign-in and paid re-issue, database work included.

    uv run python bench/certificate_signin.py                  # SQLite in a temporary dir
    uv run python bench/certificate_signin.py --database-url postgresql://...  # EMPTY db

A sign-in is the whole kernel path of the certificate grant: issue a challenge (one
INSERT), use it up, check the signature, chain, record, dates and revocation, find the
account, issue the session (refresh token row) and audit it: three transactions. The
holder's signing happens before the clock starts. Raw baseline in the same run: the
challenge-signature check alone (``verify_challenge_signature``, one read).

A paid re-issue is ``request_certificate`` for a holder who already has a certificate:
CSR, supersede, the fee through the ledger (wallet debit, revenue credit) and the audit
entry in one transaction. Baseline: the same re-issue without the fee (no ledger).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from certificates import _csr
from certificates import _register as register_citizens
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.accounts import open_account
from smartcity.kernel.identity.certificate_actions import request_certificate
from smartcity.kernel.identity.certificate_signin import sign_in_with_certificate
from smartcity.kernel.identity.certificates import (
    HolderKind,
    find_holder,
    issue_from_csr,
    open_authority,
    sign_challenge,
    verify_challenge_signature,
)
from smartcity.kernel.identity.challenges import issue_challenge
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    Account,
    Transfer,
    create_accounts,
    create_transfers,
    raise_for_errors,
)
from smartcity.kernel.ledger.wallets import open_wallets
from smartcity.kernel.storage import Store, open_store

RESULTS = Path(__file__).resolve().parent / "results" / "certificate_signin.json"
TODAY = date(2026, 11, 21)


def _register(store: Store, clock: FixedClock, count: int) -> list[tuple[str, int]]:
    ids = register_citizens(store, count)
    accounts = []
    with store.begin() as conn:
        for national_id in ids:
            account_id = open_account(
                conn,
                clock.now(),
                kind="citizen",
                username=national_id,
                display_name="居民",
                secret_hash="-",
                created_by="bench",
            )
            accounts.append((national_id, account_id))
        # Every wallet holds enough for the paid re-issues.
        raise_for_errors(
            create_accounts(conn, [Account(id=7, ledger=LEDGER_CNY, code=3001)], clock.now())
        )
        wallets = open_wallets(conn, [("citizen", i) for i in ids], clock.now())
        transfers = [
            Transfer(
                id=100 + n,
                debit_account_id=7,
                credit_account_id=wallet,
                amount=1_000_000,
                ledger=LEDGER_CNY,
                code=103,
            )
            for n, wallet in enumerate(wallets)
        ]
        raise_for_errors(create_transfers(conn, transfers, clock.now()))
    return accounts


def run(store: Store, holders: int) -> dict[str, float | int | str]:
    clock = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    authority = open_authority(store, b"bench passphrase", clock)
    signer = TokenSigner(b"k" * 32)
    accounts = _register(store, clock, holders)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in accounts]
    certificates: list[bytes] = []
    for (national_id, _account), key in zip(accounts, keys, strict=True):
        with store.begin() as conn:
            holder = find_holder(conn, HolderKind.CITIZEN, national_id, today=TODAY)
            issued = issue_from_csr(conn, authority, holder, _csr(key), now=clock.now())
        certificates.append(issued.pem())
    figures: dict[str, float | int | str] = {"backend": store.dialect, "holders": holders}

    # Challenges are issued before the clock starts only for signing; the sign-in path
    # below issues its own, as a client would.
    started = time.perf_counter()
    for pem, key in zip(certificates, keys, strict=True):
        challenge = issue_challenge(store, clock)
        signature = sign_challenge(key, challenge.value.encode())
        sign_in_with_certificate(
            store,
            clock,
            signer,
            authority,
            certificate_data=pem,
            challenge_id=challenge.id,
            challenge=challenge.value,
            signature=signature,
        )
    elapsed = time.perf_counter() - started
    # The client's own signing ran inside the loop; take its cost out.
    started = time.perf_counter()
    for key in keys:
        sign_challenge(key, b"smartcity-login:" + bytes(43))
    client_side = time.perf_counter() - started
    figures["certificate_signins_per_s"] = round(holders / (elapsed - client_side), 1)

    signed = [
        (pem, sign_challenge(key, b"smartcity-login:x"))
        for pem, key in zip(certificates, keys, strict=True)
    ]
    started = time.perf_counter()
    for pem, signature in signed:
        with store.connect() as conn:
            verify_challenge_signature(
                conn, authority, pem, b"smartcity-login:x", signature, now=clock.now()
            )
    figures["baseline_challenge_verification_per_s"] = round(
        holders / (time.perf_counter() - started), 1
    )

    half = holders // 2
    csrs = [_csr(key) for key in keys]
    started = time.perf_counter()
    for (national_id, account_id), csr in zip(accounts[:half], csrs, strict=False):
        principal = Principal(account_id, AccountKind.CITIZEN, national_id)
        issued, _ = request_certificate(store, clock, authority, principal, csr=csr)
        assert issued.fee_fen > 0
    figures["paid_reissue_per_s"] = round(half / (time.perf_counter() - started), 1)

    started = time.perf_counter()
    for (national_id, _account), csr in zip(accounts[half : 2 * half], csrs, strict=False):
        with store.begin() as conn:
            holder = find_holder(conn, HolderKind.CITIZEN, national_id, today=TODAY)
            issue_from_csr(conn, authority, holder, csr, now=clock.now())
    figures["baseline_unpaid_reissue_per_s"] = round(half / (time.perf_counter() - started), 1)
    figures["note"] = "measured under load (shared 2-core machine)"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="an empty database (default: temp)")
    parser.add_argument("--holders", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        store = open_store(url)
        try:
            store.migrate()
            figures = run(store, args.holders)
        finally:
            store.close()
    text = orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    name = (
        RESULTS
        if store.dialect == "sqlite"
        else RESULTS.with_name("certificate_signin_postgres.json")
    )
    name.parent.mkdir(parents=True, exist_ok=True)
    name.write_bytes(text)
    print(text.decode())


if __name__ == "__main__":
    main()
