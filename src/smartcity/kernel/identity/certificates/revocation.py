"""Revocation, status look-ups and the CRL signed by the issuing CA."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import Connection, event, select, update

from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.identity.certificates.authority import CertificateAuthority
from smartcity.kernel.identity.certificates.tables import certificate, certificate_holder

CRL_LIFETIME = timedelta(days=1)
_SERIAL = re.compile(r"[0-9a-f]{1,40}")


class RevocationReason(StrEnum):
    """The RFC 5280 CRLReason values a holder's certificate can be revoked with.

    certificateHold and removeFromCRL are left out: revocation here is final. The CA
    compromise reasons belong to CA certificates, not to holders'.
    """

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"

    @property
    def flag(self) -> x509.ReasonFlags:
        return x509.ReasonFlags(self.value)


def parse_reason(text: str) -> RevocationReason:
    """A revocation reason by its RFC 5280 name (``keyCompromise``; case-insensitive)."""
    wanted = text.strip().replace("_", "").replace("-", "").lower()
    for reason in RevocationReason:
        if reason.value.lower() == wanted:
            return reason
    names = ", ".join(r.value for r in RevocationReason)
    raise InvalidInput(f"unknown revocation reason {text!r}; one of: {names}", part="reason")


def parse_serial(text: str) -> str:
    """A serial number in the platform's form (32 lowercase hex digits); colons allowed."""
    cleaned = text.strip().lower().replace(":", "")
    if cleaned.startswith("0x"):
        cleaned = cleaned[2:]
    if not _SERIAL.fullmatch(cleaned):
        raise InvalidInput("a serial number is 1 to 40 hexadecimal digits", part="serial")
    return f"{int(cleaned, 16):032x}"


_generation = itertools.count(1)
_current_generation = 0


def revocation_generation() -> int:
    """Bumped by every revocation in this process: status caches drop what they hold."""
    return _current_generation


def _bump_generation() -> None:
    global _current_generation
    _current_generation = next(_generation)


def revoke_certificate(
    conn: Connection, serial: str, reason: RevocationReason, *, now: datetime
) -> None:
    """Revoke a certificate on the open transaction ``conn``.

    :class:`NotFound` for an unknown serial, :class:`Conflict` if it is already revoked.
    """
    serial = parse_serial(serial)
    row = conn.execute(
        select(certificate.c.holder_kind, certificate.c.holder_id, certificate.c.revoked_at).where(
            certificate.c.serial == serial
        )
    ).first()
    if row is None:
        raise NotFound(f"no certificate with serial {serial}", serial=serial)
    if row.revoked_at is not None:
        raise Conflict(f"certificate {serial} is already revoked", serial=serial)
    conn.execute(
        update(certificate)
        .where(certificate.c.serial == serial)
        .values(revoked_at=now, revocation_reason=reason.value)
    )
    # Before the commit and again after it, so no reader caches the state in between.
    _bump_generation()
    event.listen(conn, "commit", lambda _: _bump_generation(), once=True)
    # A revoked certificate is no longer the holder's active one (unless superseding,
    # where the caller installs the new serial in the same transaction).
    conn.execute(
        update(certificate_holder)
        .where(
            certificate_holder.c.holder_kind == row.holder_kind,
            certificate_holder.c.holder_id == row.holder_id,
            certificate_holder.c.active_serial == serial,
        )
        .values(active_serial=None)
    )


@dataclass(frozen=True)
class CertificateStatus:
    """What the status route answers: no subject, so no personal data."""

    serial: str
    status: str  # "good" | "revoked" | "unknown"
    reason: str | None = None
    revoked_at: datetime | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    expired: bool = False

    def as_json(self) -> dict[str, object]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "serial": self.serial,
            "status": self.status,
            "reason": self.reason,
            "revokedAt": iso(self.revoked_at),
            "notBefore": iso(self.not_before),
            "notAfter": iso(self.not_after),
            "expired": self.expired,
        }


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def certificate_status(conn: Connection, serial: str, *, now: datetime) -> CertificateStatus:
    """good, revoked or unknown, with the reason and dates."""
    serial = parse_serial(serial)
    row = conn.execute(
        select(
            certificate.c.not_before,
            certificate.c.not_after,
            certificate.c.revoked_at,
            certificate.c.revocation_reason,
        ).where(certificate.c.serial == serial)
    ).first()
    if row is None:
        return CertificateStatus(serial=serial, status="unknown")
    not_after = _utc(row.not_after)
    return CertificateStatus(
        serial=serial,
        status="good" if row.revoked_at is None else "revoked",
        reason=row.revocation_reason,
        revoked_at=_utc(row.revoked_at) if row.revoked_at is not None else None,
        not_before=_utc(row.not_before),
        not_after=not_after,
        expired=now > not_after,
    )


def build_crl(
    conn: Connection, authority: CertificateAuthority, *, now: datetime
) -> x509.CertificateRevocationList:
    """The CRL of every revoked certificate not yet expired, signed by the issuing CA.

    Expired certificates leave the list (RFC 5280 permits it), which keeps it small. The
    CRL number is the issue time in seconds, so it never decreases.
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.issuing.subject)
        .last_update(now)
        .next_update(now + CRL_LIFETIME)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.issuing_key.public_key()),
            critical=False,
        )
    )
    rows = conn.execute(
        select(certificate.c.serial, certificate.c.revoked_at, certificate.c.revocation_reason)
        .where(certificate.c.revoked_at.is_not(None), certificate.c.not_after > now)
        .order_by(certificate.c.serial)
    )
    for row in rows:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(row.serial, 16))
            .revocation_date(_utc(row.revoked_at))
        )
        reason = RevocationReason(row.revocation_reason)
        if reason is not RevocationReason.UNSPECIFIED:
            # RFC 5280: the reason code unspecified SHOULD be omitted.
            entry = entry.add_extension(x509.CRLReason(reason.flag), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(authority.issuing_key, hashes.SHA256())
