"""The OCSP responder: good, revoked, unknown, foreign issuer, garbage; openssl accepts it."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from sqlalchemy import delete

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    Holder,
    RevocationReason,
    answer_ocsp,
    issue_certificate,
    revoke_certificate,
)
from smartcity.kernel.identity.certificates.tables import certificate
from smartcity.kernel.storage import Store


def _issue(
    store: Store, authority: CertificateAuthority, holder: Holder, clock: FixedClock
) -> x509.Certificate:
    with store.begin() as conn:
        return issue_certificate(
            conn,
            authority,
            holder,
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            now=clock.now(),
        ).certificate


def _ask(
    store: Store,
    authority: CertificateAuthority,
    cert: x509.Certificate,
    clock: FixedClock,
    issuer: x509.Certificate | None = None,
) -> ocsp.OCSPResponse:
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, issuer or authority.issuing, hashes.SHA1())
        .add_extension(x509.OCSPNonce(b"0123456789abcdef"), critical=False)
        .build()
    )
    with store.connect() as conn:
        answer = answer_ocsp(
            conn, authority, request.public_bytes(serialization.Encoding.DER), now=clock.now()
        )
    return ocsp.load_der_ocsp_response(answer)


def test_good_then_revoked(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    cert = _issue(store, authority, citizen, clock)
    good = _ask(store, authority, cert, clock)
    assert good.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert good.serial_number == cert.serial_number
    assert good.next_update_utc == clock.now() + timedelta(hours=1)
    nonce = good.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    assert nonce == b"0123456789abcdef"
    public_key = authority.issuing.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(
        good.signature, good.tbs_response_bytes, ec.ECDSA(good.signature_hash_algorithm)
    )

    clock.advance(timedelta(minutes=5))
    with store.begin() as conn:
        revoke_certificate(
            conn, f"{cert.serial_number:x}", RevocationReason.KEY_COMPROMISE, now=clock.now()
        )
    revoked = _ask(store, authority, cert, clock)
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason is x509.ReasonFlags.key_compromise
    assert revoked.revocation_time_utc == clock.now()


def test_unknown_foreign_and_garbage(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    cert = _issue(store, authority, citizen, clock)
    with store.begin() as conn:
        conn.execute(delete(certificate))  # forget the record
    assert _ask(store, authority, cert, clock).certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    foreign = _ask(store, authority, cert, clock, issuer=authority.root)
    assert foreign.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
    with store.connect() as conn:
        garbage = answer_ocsp(conn, authority, b"\x30\x03junk", now=clock.now())
    assert (
        ocsp.load_der_ocsp_response(garbage).response_status
        is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_checks_the_response(
    tmp_path: Path,
    store: Store,
    authority: CertificateAuthority,
    citizen: Holder,
    clock: FixedClock,
) -> None:
    cert = _issue(store, authority, citizen, clock)
    pem = serialization.Encoding.PEM
    (tmp_path / "leaf.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "issuing.pem").write_bytes(authority.issuing.public_bytes(pem))
    (tmp_path / "root.pem").write_bytes(authority.root_pem())
    made = subprocess.run(
        ["openssl", "ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-reqout", "req.der"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # openssl checks the response's update times against the real clock (-attime does
    # not apply to them), so this response is made at the real time.
    with store.connect() as conn:
        answer = answer_ocsp(
            conn, authority, (tmp_path / "req.der").read_bytes(), now=datetime.now(UTC)
        )
    (tmp_path / "resp.der").write_bytes(answer)
    # With -cert openssl builds its own request (a new nonce), hence -no_nonce; the
    # second run checks the response against the request we answered, nonce included.
    checked = subprocess.run(
        ["openssl", "ocsp", "-respin", "resp.der", "-issuer", "issuing.pem", "-cert",
         "leaf.pem", "-CAfile", "root.pem", "-no_nonce"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "Response verify OK" in checked.stderr + checked.stdout
    assert "leaf.pem: good" in checked.stdout
    nonce = subprocess.run(
        ["openssl", "ocsp", "-respin", "resp.der", "-reqin", "req.der", "-issuer",
         "issuing.pem", "-CAfile", "root.pem"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert nonce.returncode == 0, nonce.stderr
    assert "Response verify OK" in nonce.stderr + nonce.stdout
