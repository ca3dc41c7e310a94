"""Detached document signatures and login challenges: good, forged, expired, revoked."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    CertificateRejected,
    Check,
    DetachedSigner,
    Holder,
    RevocationReason,
    SigningIdentity,
    issue_certificate,
    issue_from_csr,
    issue_with_generated_key,
    load_signing_identity,
    revoke_certificate,
    sign_challenge,
    sign_document,
    verify_challenge_signature,
    verify_document_signature,
)
from smartcity.kernel.identity.certificates.cms import parse_signed_data
from smartcity.kernel.identity.certificates.tables import certificate
from smartcity.kernel.storage import Store

from .conftest import make_csr

DOCUMENT = "2026年11月 增值税申报表 VAT return\n应纳税额 12,345.67 元\r\n".encode()


@pytest.fixture
def identity(
    store: Store, authority: CertificateAuthority, enterprise: Holder, clock: FixedClock
) -> SigningIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    with store.begin() as conn:
        issued = issue_from_csr(conn, authority, enterprise, make_csr(key), now=clock.now())
    return SigningIdentity(key=key, certificate=issued.certificate, chain=(authority.issuing,))


def _rejected(
    store: Store,
    authority: CertificateAuthority,
    content: bytes,
    signature: bytes,
    now: datetime,
    **options: datetime,
) -> Check:
    with store.connect() as conn, pytest.raises(CertificateRejected) as caught:
        verify_document_signature(conn, authority, content, signature, now=now, **options)
    assert caught.value.status == 422
    return caught.value.check


def test_sign_and_verify(
    store: Store,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    enterprise: Holder,
    clock: FixedClock,
) -> None:
    signature = sign_document(DOCUMENT, identity)
    with store.connect() as conn:
        verified = verify_document_signature(conn, authority, DOCUMENT, signature, now=clock.now())
    assert verified.holder.identifier == enterprise.identifier
    assert verified.serial == f"{identity.certificate.serial_number:032x}"
    parsed = parse_signed_data(signature)
    assert authority.issuing_der in parsed.certificates  # a verifier needs only the root


def test_forged_content_or_signature(
    store: Store, authority: CertificateAuthority, identity: SigningIdentity, clock: FixedClock
) -> None:
    signature = sign_document(DOCUMENT, identity)
    assert _rejected(store, authority, DOCUMENT + b" ", signature, clock.now()) is Check.FORGED
    tampered = bytearray(signature)
    tampered[-10] ^= 0x01  # inside the ECDSA signature value
    assert _rejected(store, authority, DOCUMENT, bytes(tampered), clock.now()) in (
        Check.FORGED,
        Check.MALFORMED,
    )


def test_signature_by_someone_elses_ca_is_untrusted(
    store: Store, authority: CertificateAuthority, clock: FixedClock
) -> None:
    # A look-alike CA with the same names as ours but its own key.
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    holder_key = ec.generate_private_key(ec.SECP256R1())
    now = clock.now()
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "假冒")]))
        .issuer_name(authority.issuing.subject)
        .public_key(holder_key.public_key())
        .serial_number(12345)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(rogue_key, hashes.SHA256())
    )
    signature = sign_document(DOCUMENT, SigningIdentity(key=holder_key, certificate=forged))
    assert _rejected(store, authority, DOCUMENT, signature, now) is Check.UNTRUSTED


def test_expired_and_not_yet_valid(
    store: Store, authority: CertificateAuthority, identity: SigningIdentity, clock: FixedClock
) -> None:
    signature = sign_document(DOCUMENT, identity)
    before = clock.now() - timedelta(seconds=1)
    assert _rejected(store, authority, DOCUMENT, signature, before) is Check.NOT_YET_VALID
    later = clock.now() + timedelta(days=731)
    assert _rejected(store, authority, DOCUMENT, signature, later) is Check.EXPIRED
    # Recorded while the certificate was valid, a signature stays good after expiry.
    with store.connect() as conn:
        verify_document_signature(
            conn, authority, DOCUMENT, signature, now=later, signed_at=clock.now()
        )


def test_revoked(
    store: Store, authority: CertificateAuthority, identity: SigningIdentity, clock: FixedClock
) -> None:
    signature = sign_document(DOCUMENT, identity)
    signed_at = clock.now()
    clock.advance(timedelta(days=1))
    with store.begin() as conn:
        revoke_certificate(
            conn,
            f"{identity.certificate.serial_number:x}",
            RevocationReason.KEY_COMPROMISE,
            now=clock.now(),
        )
    assert _rejected(store, authority, DOCUMENT, signature, clock.now()) is Check.REVOKED
    # A compromised key vouches for nothing, not even what was signed before.
    check = _rejected(store, authority, DOCUMENT, signature, clock.now(), signed_at=signed_at)
    assert check is Check.REVOKED


def test_superseded_certificate_keeps_earlier_signatures(
    store: Store,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    enterprise: Holder,
    clock: FixedClock,
) -> None:
    signature = sign_document(DOCUMENT, identity)
    signed_at = clock.now()
    clock.advance(timedelta(days=1))
    with store.begin() as conn:
        issue_certificate(
            conn,
            authority,
            enterprise,
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            now=clock.now(),
        )
    assert _rejected(store, authority, DOCUMENT, signature, clock.now()) is Check.REVOKED
    with store.connect() as conn:
        verify_document_signature(
            conn, authority, DOCUMENT, signature, now=clock.now(), signed_at=signed_at
        )


def test_unknown_serial_with_our_signature(
    store: Store, authority: CertificateAuthority, identity: SigningIdentity, clock: FixedClock
) -> None:
    # Signed by our issuing key but never recorded (e.g. a restored old database).
    signature = sign_document(DOCUMENT, identity)
    with store.begin() as conn:
        conn.execute(delete(certificate))
    assert _rejected(store, authority, DOCUMENT, signature, clock.now()) is Check.UNKNOWN


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(max_size=300))
def test_garbage_is_malformed_never_a_crash(
    store: Store, authority: CertificateAuthority, clock: FixedClock, junk: bytes
) -> None:
    with store.connect() as conn, pytest.raises(CertificateRejected) as caught:
        verify_document_signature(conn, authority, DOCUMENT, junk, now=clock.now())
    assert caught.value.check is Check.MALFORMED


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_or_flipped_signatures_refused(
    store: Store,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    clock: FixedClock,
    data: st.DataObject,
) -> None:
    # ECDSA signatures vary in length, so positions are drawn as fractions of it.
    signature = bytearray(sign_document(DOCUMENT, identity))
    fraction = data.draw(st.integers(0, 9999), label="where") / 10_000
    position = int(fraction * len(signature))
    if data.draw(st.booleans(), label="truncate"):
        mangled = bytes(signature[:position])
    else:
        signature[position] ^= data.draw(st.integers(1, 255), label="mask")
        mangled = bytes(signature)
    with store.connect() as conn:
        try:
            verify_document_signature(conn, authority, DOCUMENT, mangled, now=clock.now())
        except CertificateRejected:
            return
    # Some bytes (e.g. unsigned attributes, the copy of the issuing CA) are not covered by
    # the signature; changing them must still leave a signature that is truly the signer's.
    parsed = parse_signed_data(mangled)
    assert identity.certificate.public_bytes(serialization.Encoding.DER) in parsed.certificates


def test_challenge_login(
    store: Store,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    enterprise: Holder,
    clock: FixedClock,
) -> None:
    challenge = b"nonce-7f3a9c"
    signature = sign_challenge(identity.key, challenge)
    pem = identity.certificate.public_bytes(serialization.Encoding.PEM)
    with store.connect() as conn:
        holder = verify_challenge_signature(
            conn, authority, pem, challenge, signature, now=clock.now()
        )
        assert holder.identifier == enterprise.identifier
        with pytest.raises(CertificateRejected) as caught:
            verify_challenge_signature(
                conn, authority, pem, b"another nonce", signature, now=clock.now()
            )
        assert caught.value.check is Check.FORGED
        with pytest.raises(CertificateRejected) as caught:
            verify_challenge_signature(
                conn, authority, b"junk", challenge, signature, now=clock.now()
            )
        assert caught.value.check is Check.MALFORMED


def test_pkcs12_identity_signs(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    with store.begin() as conn:
        _issued, bundle = issue_with_generated_key(
            conn, authority, citizen, "holder-chosen", now=clock.now()
        )
    identity = load_signing_identity(bundle, password="holder-chosen")
    assert identity.chain == (authority.issuing,)
    signature = sign_document(DOCUMENT, identity)
    with store.connect() as conn:
        verified = verify_document_signature(conn, authority, DOCUMENT, signature, now=clock.now())
    assert verified.holder.identifier == citizen.identifier


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_detached_signature(
    tmp_path: Path,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    clock: FixedClock,
) -> None:
    document = tmp_path / "declaration.txt"
    document.write_bytes(DOCUMENT)
    (tmp_path / "declaration.txt.p7s").write_bytes(sign_document(DOCUMENT, identity))
    (tmp_path / "root.pem").write_bytes(authority.root_pem())
    # -attime: check the chain at the test clock's time, not the machine's.
    at = str(int((clock.now() + timedelta(hours=1)).astimezone(UTC).timestamp()))
    command = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER",
        "-in", "declaration.txt.p7s", "-content", "declaration.txt",
        "-CAfile", "root.pem", "-purpose", "any", "-attime", at, "-out", "/dev/null",
    ]  # fmt: skip
    good = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    assert "Verification successful" in good.stderr
    document.write_bytes(DOCUMENT + b"tampered")
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode != 0


def _prepared(identity: SigningIdentity) -> DetachedSigner:
    return DetachedSigner(identity.key, identity.certificate, identity.chain)


def test_prepared_signer_makes_signatures_the_platform_verifies(
    store: Store,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    enterprise: Holder,
    clock: FixedClock,
) -> None:
    signer = _prepared(identity)
    signature = signer.sign(DOCUMENT, clock.now())
    with store.connect() as conn:
        verified = verify_document_signature(conn, authority, DOCUMENT, signature, now=clock.now())
    assert verified.holder.identifier == enterprise.identifier
    assert verified.claimed_signing_time == clock.now().replace(microsecond=0)
    parsed = parse_signed_data(signature)
    assert authority.issuing_der in parsed.certificates
    # The same layout as the general builder's: one signer, SHA-256, DER throughout.
    general = parse_signed_data(sign_document(DOCUMENT, identity))
    assert parsed.digest_algorithm == general.digest_algorithm
    assert (parsed.signer_serial, parsed.signer_issuer) == (
        general.signer_serial,
        general.signer_issuer,
    )
    assert set(parsed.certificates) == set(general.certificates)
    assert _rejected(store, authority, DOCUMENT + b" ", signature, clock.now()) is Check.FORGED


@given(content=st.binary(max_size=3000))
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_prepared_signer_signs_any_content(
    store: Store, authority: CertificateAuthority, identity: SigningIdentity, content: bytes
) -> None:
    now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    signature = _prepared(identity).sign(content, now)
    with store.connect() as conn:
        verify_document_signature(conn, authority, content, signature, now=now)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_prepared_signers_signature(
    tmp_path: Path,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    clock: FixedClock,
) -> None:
    document = tmp_path / "receipt.json"
    document.write_bytes(DOCUMENT)
    signature = _prepared(identity).sign(DOCUMENT, clock.now())
    (tmp_path / "receipt.p7s").write_bytes(signature)
    (tmp_path / "root.pem").write_bytes(authority.root_pem())
    at = str(int((clock.now() + timedelta(hours=1)).astimezone(UTC).timestamp()))
    command = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER",
        "-in", "receipt.p7s", "-content", "receipt.json",
        "-CAfile", "root.pem", "-purpose", "any", "-attime", at, "-out", "/dev/null",
    ]  # fmt: skip
    good = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    assert "Verification successful" in good.stderr
    document.write_bytes(DOCUMENT + b"tampered")
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode != 0
