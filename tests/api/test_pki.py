"""The public PKI routes: CA chain, CRL, certificate status."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcity.kernel.identity import make_citizen_id, register_citizen
from smartcity.kernel.identity.certificates import (
    HolderKind,
    RevocationReason,
    find_holder,
    issue_certificate,
    revoke_certificate,
)
from smartcity.kernel.identity.certificates.tables import certificate
from smartcity.kernel.platform import Platform

TODAY = date(2026, 11, 21)


def _issue(client: TestClient, platform: Platform, sequence: int) -> str:
    national_id = make_citizen_id("440106", date(1990, 1, 1), sequence).text
    register_citizen(
        platform.store,
        national_id=national_id,
        name="李华",
        community_code="440106001002",
        grid_code="440106001002003",
        today=TODAY,
    )
    client.get("/pki/ca.pem")  # creates the CA on first use
    authority = client.app.state.certificate_authority  # type: ignore[attr-defined]
    with platform.store.begin() as conn:
        holder = find_holder(conn, HolderKind.CITIZEN, national_id, today=TODAY)
        issued = issue_certificate(
            conn,
            authority,
            holder,
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            now=platform.clock.now(),
        )
    return issued.serial


def test_chain_and_root(client: TestClient) -> None:
    chain = client.get("/pki/ca.pem")
    assert chain.status_code == 200
    assert chain.headers["content-type"] == "application/x-pem-file"
    issuing, root = x509.load_pem_x509_certificates(chain.content)
    issuing.verify_directly_issued_by(root)
    alone = client.get("/pki/root.pem")
    assert x509.load_pem_x509_certificate(alone.content) == root
    # The same CA on every call: created once.
    assert client.get("/pki/ca.pem").content == chain.content


def test_status_good_revoked_unknown(client: TestClient, platform: Platform) -> None:
    good = _issue(client, platform, 11)
    revoked = _issue(client, platform, 12)
    with platform.store.begin() as conn:
        revoke_certificate(conn, revoked, RevocationReason.KEY_COMPROMISE, now=platform.clock.now())

    answer = client.get(f"/pki/certificates/{good.upper()}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "good" and body["reason"] is None
    assert body["expired"] is False
    assert body["notAfter"] > body["notBefore"]
    assert set(body) == {
        "serial",
        "status",
        "reason",
        "revokedAt",
        "notBefore",
        "notAfter",
        "expired",
    }  # no subject: no personal data

    body = client.get(f"/pki/certificates/{revoked}").json()
    assert (body["status"], body["reason"]) == ("revoked", "keyCompromise")
    assert body["revokedAt"] is not None

    body = client.get("/pki/certificates/" + "0" * 31 + "1").json()
    assert body["status"] == "unknown"


def test_bad_serial_is_a_problem(client: TestClient) -> None:
    answer = client.get("/pki/certificates/not-hex")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["part"] == "serial"


@pytest.mark.parametrize("path", ["/pki/crl", "/pki/crl.pem"])
def test_crl_lists_revoked(client: TestClient, platform: Platform, path: str) -> None:
    good = _issue(client, platform, 21)
    revoked = _issue(client, platform, 22)
    with platform.store.begin() as conn:
        revoke_certificate(conn, revoked, RevocationReason.SUPERSEDED, now=platform.clock.now())
    answer = client.get(path)
    assert answer.status_code == 200
    if path == "/pki/crl":
        assert answer.headers["content-type"] == "application/pkix-crl"
        crl = x509.load_der_x509_crl(answer.content)
    else:
        crl = x509.load_pem_x509_crl(answer.content)
    issuing, _root = x509.load_pem_x509_certificates(client.get("/pki/ca.pem").content)
    assert crl.is_signature_valid(issuing.public_key())
    assert crl.get_revoked_certificate_by_serial_number(int(revoked, 16)) is not None
    assert crl.get_revoked_certificate_by_serial_number(int(good, 16)) is None
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=1)


def test_ocsp_post_and_get(client: TestClient, platform: Platform) -> None:
    serial = _issue(client, platform, 31)
    authority = client.app.state.certificate_authority  # type: ignore[attr-defined]
    with platform.store.connect() as conn:
        der = conn.execute(
            select(certificate.c.certificate_der).where(certificate.c.serial == serial)
        ).scalar_one()
    leaf = x509.load_der_x509_certificate(bytes(der))
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, authority.issuing, hashes.SHA256())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    posted = client.post(
        "/pki/ocsp", content=request, headers={"Content-Type": "application/ocsp-request"}
    )
    assert posted.status_code == 200
    assert posted.headers["content-type"] == "application/ocsp-response"
    answer = ocsp.load_der_ocsp_response(posted.content)
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    encoded = quote(base64.b64encode(request).decode(), safe="")
    fetched = ocsp.load_der_ocsp_response(client.get(f"/pki/ocsp/{encoded}").content)
    assert fetched.certificate_status is ocsp.OCSPCertStatus.GOOD
    junk = ocsp.load_der_ocsp_response(client.get("/pki/ocsp/not*base64").content)
    assert junk.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
