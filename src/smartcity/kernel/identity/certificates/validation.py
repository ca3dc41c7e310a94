"""Is a certificate one of ours, and valid at a given moment?"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Connection, bindparam, select

from smartcity.kernel.identity.certificates.authority import (
    CertificateAuthority,
    KnownCertificate,
    serial_text,
)
from smartcity.kernel.identity.certificates.errors import PARSE_ERRORS, CertificateRejected, Check
from smartcity.kernel.identity.certificates.holders import Holder, holder_of
from smartcity.kernel.identity.certificates.revocation import (
    RevocationReason,
    revocation_generation,
)
from smartcity.kernel.identity.certificates.tables import certificate

# Revoked for these reasons, a certificate still vouches for what was signed before the
# revocation (at a time the platform itself recorded). A compromised key vouches for nothing.
BENIGN_REASONS = frozenset(
    {
        RevocationReason.SUPERSEDED.value,
        RevocationReason.AFFILIATION_CHANGED.value,
        RevocationReason.CESSATION_OF_OPERATION.value,
    }
)


@dataclass(frozen=True)
class ValidCertificate:
    """A certificate that passed every check, and who holds it."""

    serial: str
    holder: Holder
    certificate: x509.Certificate


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from PEM or DER bytes (:class:`CertificateRejected` ``malformed``)."""
    try:
        if data.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except PARSE_ERRORS as exc:
        raise CertificateRejected("the certificate does not parse", Check.MALFORMED) from exc


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


CHAIN_CACHE_LIMIT = 100_000
STATUS_CACHE_SECONDS = 1.0
_RECORD = select(
    certificate.c.certificate_der,
    certificate.c.revoked_at,
    certificate.c.revocation_reason,
).where(certificate.c.serial == bindparam("serial"))


@dataclass(frozen=True, slots=True)
class _Record:
    certificate_der: bytes
    revoked_at: datetime | None
    revocation_reason: str | None
    read_at: float  # time.monotonic()
    generation: int


def _record(conn: Connection, authority: CertificateAuthority, serial: str) -> _Record | None:
    """The certificate's record, from the status cache while it is fresh.

    Reading it costs a database round trip per verification, which on PostgreSQL was
    most of a verification's time. A cached record is used for ``STATUS_CACHE_SECONDS``
    and dropped at once when this process revokes any certificate (the revocation
    generation); a revocation by another process takes effect here within that time,
    much as an OCSP answer is cached.
    """
    now = time.monotonic()
    generation = revocation_generation()
    cached: _Record | None = authority.status_cache.get(serial)
    if (
        cached is not None
        and cached.generation == generation
        and now - cached.read_at < STATUS_CACHE_SECONDS
    ):
        return cached
    row = conn.execute(_RECORD, {"serial": serial}).first()
    if row is None:
        return None
    record = _Record(
        bytes(row.certificate_der), row.revoked_at, row.revocation_reason, now, generation
    )
    if len(authority.status_cache) >= CHAIN_CACHE_LIMIT:
        authority.status_cache.clear()
    authority.status_cache[serial] = record
    return record


def _check_issuer(
    authority: CertificateAuthority, candidate: x509.Certificate, serial: str
) -> None:
    if candidate.issuer != authority.issuing.subject:
        raise CertificateRejected(
            "the certificate was not issued by this platform's CA", Check.UNTRUSTED, serial=serial
        )
    try:
        candidate.verify_directly_issued_by(authority.issuing)
    except (TypeError, InvalidSignature) as exc:
        raise CertificateRejected(
            "the certificate's signature is not our issuing CA's", Check.UNTRUSTED, serial=serial
        ) from exc


def check_certificate(
    conn: Connection,
    authority: CertificateAuthority,
    candidate: x509.Certificate,
    *,
    now: datetime,
    at: datetime | None = None,
    der: bytes | None = None,
) -> ValidCertificate:
    """Check ``candidate`` chains to our issuing CA, is on record, and was valid ``at``.

    ``at`` (default ``now``) is when the platform itself recorded a signature, never a
    time the signer claims. A revocation after ``at`` for a benign reason (superseded,
    affiliation changed, cessation) does not undo earlier signatures. ``der`` is the
    candidate's encoding when the caller already has it.
    """
    moment = at or now
    public_key: ec.EllipticCurvePublicKey | None = None
    try:
        serial = serial_text(candidate.serial_number)
        der = der or candidate.public_bytes(serialization.Encoding.DER)
        known = authority.chain_verified.get(der)
        if known is None:
            _check_issuer(authority, candidate, serial)
            key = candidate.public_key()
            public_key = key if isinstance(key, ec.EllipticCurvePublicKey) else None
    except PARSE_ERRORS as exc:  # parts of a certificate are decoded lazily
        raise CertificateRejected("the certificate does not parse", Check.MALFORMED) from exc
    row = _record(conn, authority, serial)
    if row is None:
        raise CertificateRejected(
            "the platform has no record of this certificate", Check.UNKNOWN, serial=serial
        )
    if bytes(row.certificate_der) != der:
        raise CertificateRejected(
            "the certificate differs from the one issued with this serial",
            Check.FORGED,
            serial=serial,
        )
    if known is None:
        known = KnownCertificate(
            certificate=candidate, public_key=public_key, holder=holder_of(candidate)
        )
        if len(authority.chain_verified) >= CHAIN_CACHE_LIMIT:
            authority.chain_verified.clear()
        authority.chain_verified[der] = known
    if moment < candidate.not_valid_before_utc:
        raise CertificateRejected(
            f"the certificate is not valid before {candidate.not_valid_before_utc.isoformat()}",
            Check.NOT_YET_VALID,
            serial=serial,
        )
    if moment > candidate.not_valid_after_utc:
        raise CertificateRejected(
            f"the certificate expired at {candidate.not_valid_after_utc.isoformat()}",
            Check.EXPIRED,
            serial=serial,
        )
    if row.revoked_at is not None:
        revoked_at = _utc(row.revoked_at)
        if revoked_at <= moment or row.revocation_reason not in BENIGN_REASONS:
            raise CertificateRejected(
                f"the certificate was revoked ({row.revocation_reason}) "
                f"at {revoked_at.isoformat()}",
                Check.REVOKED,
                serial=serial,
                revocationReason=row.revocation_reason,
            )
    return ValidCertificate(serial=serial, holder=known.holder, certificate=candidate)
