"""Revocation, status look-ups and the CRL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    Holder,
    RevocationReason,
    build_crl,
    certificate_status,
    issue_from_csr,
    parse_reason,
    parse_serial,
    revoke_certificate,
)
from smartcity.kernel.storage import Store

from .conftest import make_csr


def _issue(store: Store, authority: CertificateAuthority, holder: Holder, clock: FixedClock) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    with store.begin() as conn:
        return issue_from_csr(conn, authority, holder, make_csr(key), now=clock.now()).serial


def test_revoke_then_status_and_crl(
    store: Store,
    authority: CertificateAuthority,
    citizen: Holder,
    enterprise: Holder,
    clock: FixedClock,
) -> None:
    revoked = _issue(store, authority, citizen, clock)
    kept = _issue(store, authority, enterprise, clock)
    clock.advance(timedelta(hours=1))
    with store.begin() as conn:
        revoke_certificate(conn, revoked, RevocationReason.KEY_COMPROMISE, now=clock.now())
    with store.connect() as conn:
        status = certificate_status(conn, revoked, now=clock.now())
        assert certificate_status(conn, kept, now=clock.now()).status == "good"
        crl = build_crl(conn, authority, now=clock.now())
    assert status.status == "revoked" and status.reason == "keyCompromise"
    assert status.revoked_at == clock.now()
    assert crl.is_signature_valid(authority.issuing.public_key())
    assert crl.issuer == authority.issuing.subject
    assert crl.next_update_utc == clock.now() + timedelta(days=1)
    entry = crl.get_revoked_certificate_by_serial_number(int(revoked, 16))
    assert entry is not None
    assert entry.revocation_date_utc == clock.now()
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(int(kept, 16)) is None
    assert len(crl) == 1


def test_expired_certificates_leave_the_crl(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    serial = _issue(store, authority, citizen, clock)
    with store.begin() as conn:
        revoke_certificate(conn, serial, RevocationReason.UNSPECIFIED, now=clock.now())
        crl = build_crl(conn, authority, now=clock.now())
        entry = crl.get_revoked_certificate_by_serial_number(int(serial, 16))
        assert entry is not None and len(entry.extensions) == 0  # unspecified is omitted
    clock.advance(timedelta(days=731))
    with store.connect() as conn:
        assert len(build_crl(conn, authority, now=clock.now())) == 0
        assert certificate_status(conn, serial, now=clock.now()).expired


def test_revoking_twice_or_unknown(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    serial = _issue(store, authority, citizen, clock)
    with store.begin() as conn:
        revoke_certificate(conn, serial, RevocationReason.CESSATION_OF_OPERATION, now=clock.now())
    with pytest.raises(Conflict), store.begin() as conn:
        revoke_certificate(conn, serial, RevocationReason.UNSPECIFIED, now=clock.now())
    with pytest.raises(NotFound), store.begin() as conn:
        revoke_certificate(conn, "ab" * 16, RevocationReason.UNSPECIFIED, now=clock.now())
    with store.connect() as conn:
        assert certificate_status(conn, "ab" * 16, now=clock.now()).status == "unknown"


def test_reasons_by_rfc_name() -> None:
    assert parse_reason("keyCompromise") is RevocationReason.KEY_COMPROMISE
    assert parse_reason("key-compromise") is RevocationReason.KEY_COMPROMISE
    assert parse_reason("SUPERSEDED") is RevocationReason.SUPERSEDED
    with pytest.raises(InvalidInput, match="one of"):
        parse_reason("removeFromCRL")


@given(st.integers(min_value=1, max_value=2**128 - 1))
def test_serial_forms_agree(serial: int) -> None:
    text = f"{serial:032x}"
    assert parse_serial(text) == text
    assert parse_serial(text.upper()) == text
    # openssl prints serials as colon-separated pairs, without leading zeros.
    assert parse_serial(":".join(text[i : i + 2] for i in range(0, 32, 2))) == text
    assert parse_serial(f"{serial:x}") == text


@pytest.mark.parametrize("bad", ["", "xyz", "0x", "1" * 41, "12 34"])
def test_bad_serials_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_serial(bad)
