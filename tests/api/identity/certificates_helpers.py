"""Helpers of the certificate tests: accounts, tokens, CSRs, signed challenges, wallets."""

from __future__ import annotations

import base64
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from httpx2 import Response

from smartcity.kernel.identity.certificate_signin import CERTIFICATE_GRANT
from smartcity.kernel.identity.certificates import sign_challenge
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    Account,
    Transfer,
    create_accounts,
    create_transfers,
    raise_for_errors,
)
from smartcity.kernel.ledger.wallets import open_wallets
from smartcity.kernel.platform import Platform
from tests.kernel.identity.people import PASSWORD

BANK_ACCOUNT_ID = 77
_funding = iter(range(1000, 10_000))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register_citizen(client: TestClient, national_id: str, name: str) -> None:
    answer = client.post(
        "/auth/register/citizen",
        json={"national_id": national_id, "name": name, "password": PASSWORD},
    )
    assert answer.status_code == 201, answer.text


def password_token(client: TestClient, username: str, **extra: str) -> str:
    answer = client.post(
        "/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD, **extra},
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def make_csr(key: ec.EllipticCurvePrivateKey) -> str:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "me")]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def request_certificate(
    client: TestClient, token: str, key: ec.EllipticCurvePrivateKey
) -> Response:
    return client.post("/pki/certificates", json={"csr": make_csr(key)}, headers=bearer(token))


def challenge(client: TestClient) -> dict[str, Any]:
    answer = client.post("/auth/certificate/challenge")
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def certificate_grant(
    client: TestClient,
    certificate_pem: str,
    key: ec.EllipticCurvePrivateKey,
    issued: dict[str, Any],
    *,
    signed_text: str | None = None,
) -> Response:
    text = issued["challenge"] if signed_text is None else signed_text
    signature = sign_challenge(key, text.encode())
    return client.post(
        "/auth/token",
        data={
            "grant_type": CERTIFICATE_GRANT,
            "certificate": certificate_pem,
            "challenge_id": issued["challenge_id"],
            "challenge": issued["challenge"],
            "signature": base64.b64encode(signature).decode(),
        },
    )


def fund_wallet(platform: Platform, kind: str, identifier: str, amount_fen: int) -> int:
    """Top up a wallet from a bank account (a test stand-in for the payment app)."""
    now = platform.clock.now()
    with platform.store.begin() as conn:
        raise_for_errors(
            create_accounts(conn, [Account(id=BANK_ACCOUNT_ID, ledger=LEDGER_CNY, code=3001)], now)
        )
        (wallet,) = open_wallets(conn, [(kind, identifier)], now)
        raise_for_errors(
            create_transfers(
                conn,
                [
                    Transfer(
                        id=next(_funding),
                        debit_account_id=BANK_ACCOUNT_ID,
                        credit_account_id=wallet,
                        amount=amount_fen,
                        ledger=LEDGER_CNY,
                        code=103,
                    )
                ],
                now,
            )
        )
    return wallet
