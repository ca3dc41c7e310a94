"""The status cache saves a query per verification, yet no revocation slips through."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import event, update

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    CertificateRejected,
    Check,
    Holder,
    RevocationReason,
    SigningIdentity,
    issue_from_csr,
    revoke_certificate,
    sign_document,
    validation,
    verify_document_signature,
)
from smartcity.kernel.identity.certificates.tables import certificate
from smartcity.kernel.storage import Store

from .conftest import make_csr

DOCUMENT = "电子回单 e-receipt 2026-11\n".encode()


@pytest.fixture
def identity(
    store: Store, authority: CertificateAuthority, enterprise: Holder, clock: FixedClock
) -> SigningIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    with store.begin() as conn:
        issued = issue_from_csr(conn, authority, enterprise, make_csr(key), now=clock.now())
    return SigningIdentity(key=key, certificate=issued.certificate, chain=(authority.issuing,))


def _check(
    store: Store, authority: CertificateAuthority, signature: bytes, clock: FixedClock
) -> Check | None:
    try:
        with store.connect() as conn:
            verify_document_signature(conn, authority, DOCUMENT, signature, now=clock.now())
    except CertificateRejected as rejected:
        return rejected.check
    return None


def test_a_revocation_in_this_process_takes_effect_at_once(
    store: Store, authority: CertificateAuthority, identity: SigningIdentity, clock: FixedClock
) -> None:
    signature = sign_document(DOCUMENT, identity)
    assert _check(store, authority, signature, clock) is None  # now cached as good
    serial = f"{identity.certificate.serial_number:032x}"
    with store.begin() as conn:
        revoke_certificate(conn, serial, RevocationReason.KEY_COMPROMISE, now=clock.now())
    assert _check(store, authority, signature, clock) is Check.REVOKED


def test_a_revocation_by_another_process_takes_effect_once_the_entry_is_stale(
    store: Store,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signature = sign_document(DOCUMENT, identity)
    assert _check(store, authority, signature, clock) is None
    # Another worker revokes: this process hears nothing, only the database changes.
    with store.begin() as conn:
        conn.execute(
            update(certificate)
            .where(certificate.c.serial == f"{identity.certificate.serial_number:032x}")
            .values(revoked_at=clock.now(), revocation_reason="keyCompromise")
        )
    # Within STATUS_CACHE_SECONDS the cached record may still answer; past it, never.
    monkeypatch.setattr(validation, "STATUS_CACHE_SECONDS", 0.0)
    assert _check(store, authority, signature, clock) is Check.REVOKED


def test_verifications_within_the_window_need_no_query(
    store: Store,
    authority: CertificateAuthority,
    identity: SigningIdentity,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(validation, "STATUS_CACHE_SECONDS", 3600.0)  # however slow the machine
    signature = sign_document(DOCUMENT, identity)
    assert _check(store, authority, signature, clock) is None
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        assert _check(store, authority, signature, clock) is None
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert not [s for s in statements if "certificate" in s]
