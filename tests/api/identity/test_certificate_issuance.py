"""Certificates over HTTP for signed-in holders: issue, the re-issue fee, list, revoke, CRL."""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcity.kernel.audit.tables import audit_entry
from smartcity.kernel.identity.accounts import add_staff_account
from smartcity.kernel.identity.certificates.fees import (
    FEE_REVENUE_ACCOUNT_ID,
    fee_transfer_id,
)
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.ledger import lookup_accounts, lookup_transfers, verify_ledger
from smartcity.kernel.ledger.wallets import wallet_account_id
from smartcity.kernel.platform import Platform
from tests.api.identity.certificates_helpers import (
    bearer,
    fund_wallet,
    password_token,
    register_citizen,
    request_certificate,
)
from tests.kernel.identity.people import FAST_HASHER, PASSWORD, People

FEE = 2000


def _citizen(client: TestClient, people: People) -> str:
    register_citizen(client, people.agent_id, people.agent_name)
    return password_token(client, people.agent_id)


def _staff_token(client: TestClient, platform: Platform, employee_number: str) -> str:
    city = Principal(0, AccountKind.STAFF, "root", "GZ-BGT", frozenset({"administrator"}))
    add_staff_account(
        platform.store,
        platform.clock,
        FAST_HASHER,
        administrator=city,
        employee_number=employee_number,
        password=PASSWORD,
    )
    return password_token(client, employee_number)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_first_certificate_is_free_and_the_second_needs_a_wallet(
    auth_client: TestClient, identity_platform: Platform, people: People
) -> None:
    token = _citizen(auth_client, people)
    first = request_certificate(auth_client, token, _key())
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["feeFen"] == 0 and body["supersededSerial"] is None
    leaf = x509.load_pem_x509_certificate(body["certificate"].encode())
    issuing, _root = x509.load_pem_x509_certificates(body["chain"].encode())
    leaf.verify_directly_issued_by(issuing)
    assert first.headers["cache-control"] == "no-store"

    mine = auth_client.get("/pki/certificates/mine", headers=bearer(token)).json()
    assert mine["nextFeeFen"] == FEE
    empty = request_certificate(auth_client, token, _key())
    assert empty.status_code == 409, empty.text
    assert "top up first" in empty.json()["detail"]
    # Nothing changed: the first certificate is still the active one.
    mine = auth_client.get("/pki/certificates/mine", headers=bearer(token)).json()
    assert [c["serial"] for c in mine["certificates"]] == [body["serial"]]
    assert mine["certificates"][0]["active"] is True

    fund_wallet(identity_platform, "citizen", people.agent_id, FEE - 1)
    short = request_certificate(auth_client, token, _key())
    assert short.status_code == 409 and "holds 1999" in short.json()["detail"]


def test_second_certificate_is_charged_once_through_the_ledger(
    auth_client: TestClient, identity_platform: Platform, people: People
) -> None:
    token = _citizen(auth_client, people)
    first = request_certificate(auth_client, token, _key()).json()
    wallet = fund_wallet(identity_platform, "citizen", people.agent_id, 5000)
    assert wallet == wallet_account_id("citizen", people.agent_id)
    assert not list(x509.load_der_x509_crl(auth_client.get("/pki/crl").content))
    second = request_certificate(auth_client, token, _key())
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["feeFen"] == FEE and body["supersededSerial"] == first["serial"]
    crl = x509.load_der_x509_crl(auth_client.get("/pki/crl").content)
    assert crl.get_revoked_certificate_by_serial_number(int(first["serial"], 16)) is not None
    with identity_platform.store.connect() as conn:
        paid, revenue = lookup_accounts(conn, [wallet, FEE_REVENUE_ACCOUNT_ID])
        (transfer,) = lookup_transfers(conn, [fee_transfer_id(body["serial"])])
        report = verify_ledger(conn)
    assert (paid.balance == 5000 - FEE and revenue.balance == -FEE) or revenue.credits_posted == FEE
    assert (transfer.debit_account_id, transfer.credit_account_id) == (
        wallet,
        FEE_REVENUE_ACCOUNT_ID,
    )
    assert transfer.amount == FEE
    assert report.ok
    mine = auth_client.get("/pki/certificates/mine", headers=bearer(token)).json()
    states = {c["serial"]: (c["active"], c["revocationReason"]) for c in mine["certificates"]}
    assert states == {body["serial"]: (True, None), first["serial"]: (False, "superseded")}
    with identity_platform.store.connect() as conn:
        issued = conn.execute(
            select(audit_entry.c.actor, audit_entry.c.details)
            .where(audit_entry.c.action == "certificate.issued")
            .order_by(audit_entry.c.seq)
        ).all()
    assert len(issued) == 2
    assert str(FEE) in issued[1].details and issued[1].actor.startswith("account:")


def test_generated_key_comes_back_once_as_pkcs12(auth_client: TestClient, people: People) -> None:
    token = _citizen(auth_client, people)
    answer = auth_client.post(
        "/pki/certificates",
        json={"generate": True, "password": "bundle password"},
        headers=bearer(token),
    )
    assert answer.status_code == 201, answer.text
    bundle = base64.b64decode(answer.json()["pkcs12"])
    key, certificate, _chain = pkcs12.load_key_and_certificates(bundle, b"bundle password")
    assert key is not None and certificate is not None
    assert format(certificate.serial_number, "032x") == answer.json()["serial"]
    short = auth_client.post(
        "/pki/certificates", json={"generate": True, "password": "short"}, headers=bearer(token)
    )
    assert short.status_code == 422
    both = auth_client.post(
        "/pki/certificates",
        json={"generate": True, "password": "bundle password", "csr": "x"},
        headers=bearer(token),
    )
    assert both.status_code == 422
    bad_csr = auth_client.post("/pki/certificates", json={"csr": "junk"}, headers=bearer(token))
    assert bad_csr.status_code == 422 and bad_csr.json()["part"] == "csr"


def test_enterprise_gets_its_certificate_in_its_own_name(
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
    answer = request_certificate(auth_client, enterprise, _key())
    assert answer.status_code == 201, answer.text
    leaf = x509.load_pem_x509_certificate(answer.json()["certificate"].encode())
    assert people.uscc in leaf.subject.rfc4514_string()


def test_who_may_ask_and_revoke(
    auth_client: TestClient, identity_platform: Platform, people: People
) -> None:
    assert auth_client.post("/pki/certificates", json={"generate": True}).status_code == 401
    owner = _citizen(auth_client, people)
    serial = request_certificate(auth_client, owner, _key()).json()["serial"]
    register_citizen(auth_client, people.representative_id, people.representative_name)
    other = password_token(auth_client, people.representative_id)
    officer = _staff_token(auth_client, identity_platform, people.police_officer)
    administrator = _staff_token(auth_client, identity_platform, people.police_administrator)

    staff_asks = request_certificate(auth_client, officer, _key())
    assert staff_asks.status_code == 403
    path = f"/pki/certificates/{serial}/revoke"
    assert auth_client.post(path, headers=bearer(other)).status_code == 403
    assert auth_client.post(path, headers=bearer(officer)).status_code == 403
    unknown = auth_client.post(f"/pki/certificates/{'0' * 31}1/revoke", headers=bearer(owner))
    assert unknown.status_code == 404
    bad_reason = auth_client.post(path, json={"reason": "bored"}, headers=bearer(owner))
    assert bad_reason.status_code == 422
    revoked = auth_client.post(
        path, json={"reason": "privilegeWithdrawn"}, headers=bearer(administrator)
    )
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["reason"]) == (
        "revoked",
        "privilegeWithdrawn",
    )
    assert auth_client.post(path, headers=bearer(owner)).status_code == 409
    with identity_platform.store.connect() as conn:
        entry = conn.execute(
            select(audit_entry.c.actor, audit_entry.c.details).where(
                audit_entry.c.action == "certificate.revoked"
            )
        ).one()
    assert "privilegeWithdrawn" in entry.details and entry.actor.startswith("account:")


def test_holder_revokes_their_own_and_the_crl_shows_it_at_once(
    auth_client: TestClient, people: People
) -> None:
    token = _citizen(auth_client, people)
    serial = request_certificate(auth_client, token, _key()).json()["serial"]
    before = x509.load_der_x509_crl(auth_client.get("/pki/crl").content)
    assert before.get_revoked_certificate_by_serial_number(int(serial, 16)) is None
    cache = auth_client.app.state.crl_cache  # type: ignore[attr-defined]
    builds = cache.builds
    auth_client.get("/pki/crl.pem")
    assert cache.builds == builds  # served from the cache
    answer = auth_client.post(
        f"/pki/certificates/{serial}/revoke",
        json={"reason": "keyCompromise"},
        headers=bearer(token),
    )
    assert answer.status_code == 200, answer.text
    after = x509.load_der_x509_crl(auth_client.get("/pki/crl").content)
    assert after.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
