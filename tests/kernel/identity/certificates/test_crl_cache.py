"""The CRL cache: built once, rebuilt on invalidation, age, or a near nextUpdate."""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    Holder,
    RevocationReason,
    issue_certificate,
    revoke_certificate,
)
from smartcity.kernel.identity.certificates.crl_cache import CrlCache
from smartcity.kernel.storage import Store


def _revoked_serials(der: bytes) -> set[int]:
    return {entry.serial_number for entry in x509.load_der_x509_crl(der)}


def test_cache_serves_until_invalidated_or_stale(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    cache = CrlCache(store, clock, authority, refresh=timedelta(minutes=5))
    first = cache.current()
    assert cache.current() is first and cache.builds == 1
    with store.begin() as conn:
        issued = issue_certificate(
            conn,
            authority,
            citizen,
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            now=clock.now(),
        )
        revoke_certificate(conn, issued.serial, RevocationReason.KEY_COMPROMISE, now=clock.now())
    # Revoked elsewhere (another worker, the CLI): seen once the cache is old enough.
    assert int(issued.serial, 16) not in _revoked_serials(cache.current().der)
    clock.advance(timedelta(minutes=5))
    refreshed = cache.current()
    assert int(issued.serial, 16) in _revoked_serials(refreshed.der)
    assert cache.builds == 2
    cache.invalidate()
    assert cache.current() is not refreshed and cache.builds == 3
    assert x509.load_pem_x509_crl(cache.current().pem).is_signature_valid(
        authority.issuing.public_key()
    )


def test_cache_rebuilds_before_next_update(
    store: Store, authority: CertificateAuthority, clock: FixedClock
) -> None:
    # A refresh longer than the CRL's life: nextUpdate alone forces the rebuild.
    cache = CrlCache(store, clock, authority, refresh=timedelta(days=30))
    first = cache.current()
    clock.advance(timedelta(hours=22, minutes=30))
    assert cache.current() is first
    clock.advance(timedelta(minutes=31))
    second = cache.current()
    assert second is not first and second.next_update > first.next_update
