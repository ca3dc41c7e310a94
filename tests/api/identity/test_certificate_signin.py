"""Certificate sign-in: challenge, signature, token; and every way it is refused."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any, NamedTuple

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from smartcity.kernel.audit.tables import audit_entry
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.certificate_signin import CERTIFICATE_GRANT
from smartcity.kernel.identity.certificates.tables import certificate_challenge
from smartcity.kernel.platform import Platform
from tests.api.identity.certificates_helpers import (
    bearer,
    certificate_grant,
    challenge,
    password_token,
    register_citizen,
    request_certificate,
)
from tests.kernel.identity.people import PASSWORD, People


class LoggedEvent(NamedTuple):
    action: str
    details: dict[str, Any]


def _citizen_with_certificate(
    client: TestClient, national_id: str, name: str
) -> tuple[str, ec.EllipticCurvePrivateKey, dict[str, Any]]:
    register_citizen(client, national_id, name)
    token = password_token(client, national_id)
    key = ec.generate_private_key(ec.SECP256R1())
    issued = request_certificate(client, token, key)
    assert issued.status_code == 201, issued.text
    return token, key, issued.json()


def _refusal(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 400, answer.text
    body: dict[str, Any] = answer.json()
    assert body["error"] == "invalid_grant"
    assert body["error_description"]
    return body


def _login_events(platform: Platform) -> list[LoggedEvent]:
    with platform.store.connect() as conn:
        rows = conn.execute(
            select(audit_entry.c.action, audit_entry.c.details)
            .where(audit_entry.c.action.like("identity.login_%"))
            .order_by(audit_entry.c.seq)
        ).all()
    return [LoggedEvent(row.action, orjson.loads(row.details)) for row in rows]


def test_challenge_is_random_short_lived_and_stored_hashed(
    auth_client: TestClient, identity_platform: Platform
) -> None:
    first, second = challenge(auth_client), challenge(auth_client)
    assert first["challenge_id"] != second["challenge_id"]
    assert first["challenge"] != second["challenge"]
    assert 0 < first["expires_in"] <= 120
    answer = auth_client.post("/auth/certificate/challenge")
    assert answer.headers["cache-control"] == "no-store"
    with identity_platform.store.connect() as conn:
        stored = conn.execute(select(certificate_challenge.c.challenge_hash)).scalars().all()
    assert first["challenge"] not in stored and len(stored) == 3


def test_sign_in_with_a_certificate(
    auth_client: TestClient, identity_platform: Platform, people: People
) -> None:
    _token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    answer = certificate_grant(auth_client, issued["certificate"], key, challenge(auth_client))
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    me = auth_client.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["subject"] == people.agent_id
    # The certificate may also come as base64 DER.
    certificate = x509.load_pem_x509_certificate(issued["certificate"].encode())
    der_text = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    again = certificate_grant(auth_client, der_text, key, challenge(auth_client))
    assert again.status_code == 200, again.text
    succeeded = [e for e in _login_events(identity_platform) if e.action.endswith("succeeded")]
    assert [e.details["method"] for e in succeeded][-2:] == ["certificate", "certificate"]
    assert succeeded[-1].details["serial"] == issued["serial"]


def test_a_replayed_challenge_is_refused(auth_client: TestClient, people: People) -> None:
    _token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    asked = challenge(auth_client)
    assert certificate_grant(auth_client, issued["certificate"], key, asked).status_code == 200
    body = _refusal(certificate_grant(auth_client, issued["certificate"], key, asked))
    assert body["check"] == "replayed"


def test_a_failed_attempt_uses_up_the_challenge(auth_client: TestClient, people: People) -> None:
    _token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    asked = challenge(auth_client)
    wrong = ec.generate_private_key(ec.SECP256R1())
    assert _refusal(certificate_grant(auth_client, issued["certificate"], wrong, asked))
    body = _refusal(certificate_grant(auth_client, issued["certificate"], key, asked))
    assert body["check"] == "replayed"


def test_an_expired_challenge_is_refused(
    auth_client: TestClient, people: People, clock: FixedClock
) -> None:
    _token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    asked = challenge(auth_client)
    clock.advance(timedelta(minutes=3))
    body = _refusal(certificate_grant(auth_client, issued["certificate"], key, asked))
    assert body["check"] == "expired"


def test_an_unknown_challenge_or_a_wrong_value_is_refused(
    auth_client: TestClient, people: People
) -> None:
    _token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    asked = challenge(auth_client)
    tampered = {**asked, "challenge": asked["challenge"] + "x"}
    body = _refusal(certificate_grant(auth_client, issued["certificate"], key, tampered))
    assert body["check"] == "challenge"
    missing = {**asked, "challenge_id": "0" * 32}
    assert _refusal(certificate_grant(auth_client, issued["certificate"], key, missing))


def test_a_revoked_certificate_is_refused(
    auth_client: TestClient, identity_platform: Platform, people: People
) -> None:
    token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    revoked = auth_client.post(
        f"/pki/certificates/{issued['serial']}/revoke",
        json={"reason": "keyCompromise"},
        headers=bearer(token),
    )
    assert revoked.status_code == 200, revoked.text
    body = _refusal(
        certificate_grant(auth_client, issued["certificate"], key, challenge(auth_client))
    )
    assert body["check"] == "revoked"
    failed = [e for e in _login_events(identity_platform) if e.action.endswith("failed")]
    assert failed[-1].details["check"] == "revoked"
    assert failed[-1].details["serial"] == issued["serial"]


def test_another_holders_certificate_is_refused(auth_client: TestClient, people: People) -> None:
    _token, _key, victims = _citizen_with_certificate(
        auth_client, people.agent_id, people.agent_name
    )
    _token2, thief_key, _own = _citizen_with_certificate(
        auth_client, people.representative_id, people.representative_name
    )
    # The thief holds a certificate of their own, but not the victim's key.
    body = _refusal(
        certificate_grant(auth_client, victims["certificate"], thief_key, challenge(auth_client))
    )
    assert body["check"] == "forged"


def test_a_forged_signature_is_refused(auth_client: TestClient, people: People) -> None:
    _token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    asked = challenge(auth_client)
    body = _refusal(
        certificate_grant(
            auth_client, issued["certificate"], key, asked, signed_text="smartcity-login:other"
        )
    )
    assert body["check"] == "forged"
    garbage = auth_client.post(
        "/auth/token",
        data={
            "grant_type": CERTIFICATE_GRANT,
            "certificate": issued["certificate"],
            "challenge_id": challenge(auth_client)["challenge_id"],
            "challenge": "smartcity-login:x",
            "signature": "not base64!",
        },
    )
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_request"


def test_a_foreign_certificate_is_refused(auth_client: TestClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, "11010519491231002X")])
    moment = auth_client.app.state.platform.clock.now()  # type: ignore[attr-defined]
    self_signed = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(moment - timedelta(days=1))
        .not_valid_after(moment + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = self_signed.public_bytes(serialization.Encoding.PEM).decode()
    body = _refusal(certificate_grant(auth_client, pem, key, challenge(auth_client)))
    assert body["check"] == "untrusted"


def test_a_holder_without_an_account_is_told_to_register(
    auth_client: TestClient, identity_platform: Platform, people: People
) -> None:
    _token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    # Take the account away (as if it had never been opened): rename its username.
    with identity_platform.store.begin() as conn:
        conn.execute(
            update(identity_account)
            .where(identity_account.c.username == people.agent_id)
            .values(username="gone")
        )
    body = _refusal(
        certificate_grant(auth_client, issued["certificate"], key, challenge(auth_client))
    )
    assert body["check"] == "no-account" and "register" in body["error_description"]


def test_every_attempt_is_audited(
    auth_client: TestClient, identity_platform: Platform, people: People
) -> None:
    _token, key, issued = _citizen_with_certificate(auth_client, people.agent_id, people.agent_name)
    before = len(_login_events(identity_platform))
    asked = challenge(auth_client)
    certificate_grant(auth_client, issued["certificate"], key, asked)
    certificate_grant(auth_client, issued["certificate"], key, asked)
    wrong = ec.generate_private_key(ec.SECP256R1())
    certificate_grant(auth_client, issued["certificate"], wrong, challenge(auth_client))
    events = _login_events(identity_platform)[before:]
    assert [e.action for e in events] == [
        "identity.login_succeeded",
        "identity.login_failed",
        "identity.login_failed",
    ]
    assert all(e.details["method"] == "certificate" for e in events)
    with identity_platform.store.connect() as conn:
        used = conn.execute(
            select(func.count()).where(certificate_challenge.c.used_at.is_not(None))
        ).scalar_one()
    assert used == 2


def test_an_enterprise_signs_in_with_its_certificate(
    auth_client: TestClient, people: People
) -> None:
    register_citizen(auth_client, people.representative_id, people.representative_name)
    representative = password_token(auth_client, people.representative_id)
    created = auth_client.post(
        "/auth/register/enterprise",
        json={"uscc": people.uscc, "password": PASSWORD},
        headers=bearer(representative),
    )
    assert created.status_code == 201, created.text
    enterprise = password_token(auth_client, people.uscc)
    key = ec.generate_private_key(ec.SECP256R1())
    issued = request_certificate(auth_client, enterprise, key).json()
    answer = certificate_grant(auth_client, issued["certificate"], key, challenge(auth_client))
    assert answer.status_code == 200, answer.text
    me = auth_client.get("/auth/me", headers=bearer(answer.json()["access_token"])).json()
    assert (me["kind"], me["subject"]) == ("enterprise", people.uscc)
