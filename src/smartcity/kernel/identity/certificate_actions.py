"""Certificates for signed-in holders: issue (CSR or PKCS#12), list, revoke.

The actions behind ``/pki/certificates``. A citizen holds a certificate in their own name,
an enterprise (or its authorised agent, acting for it) in the enterprise's. The first
certificate is free; a later one costs the re-issue fee, debited from the holder's wallet
through the ledger in the issuing transaction (:mod:`.certificates.fees`). Staff holding
``certificate.revoke`` may revoke anyone's certificate; holders revoke their own. Every
issuance and revocation is in the audit log with the actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import InvalidInput, NotFound, PermissionDenied
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    Holder,
    HolderKind,
    IssuedCertificate,
    RevocationReason,
    certificate_fee_fen,
    find_holder,
    issue_from_csr,
    issue_with_generated_key,
    parse_serial,
    revoke_certificate,
)
from smartcity.kernel.identity.certificates.fees import charge_certificate_fee, fee_transfer_id
from smartcity.kernel.identity.certificates.issuance import DEFAULT_REISSUE_FEE_FEN
from smartcity.kernel.identity.certificates.tables import certificate, certificate_holder
from smartcity.kernel.identity.permissions import (
    AGENT_ROLE,
    Permission,
    actor_of,
    check_permission,
    holds,
)
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.storage import Store


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """One of a holder's certificates as they see it."""

    serial: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    key_origin: str
    active: bool
    revoked_at: datetime | None
    revocation_reason: str | None

    def as_json(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat().replace("+00:00", "Z") if moment is not None else None

        return {
            "serial": self.serial,
            "notBefore": iso(self.not_before),
            "notAfter": iso(self.not_after),
            "issuedAt": iso(self.issued_at),
            "keyOrigin": self.key_origin,
            "active": self.active,
            "revokedAt": iso(self.revoked_at),
            "revocationReason": self.revocation_reason,
        }


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def holder_for(conn: Connection, principal: Principal, *, now: datetime) -> Holder:
    """The certificate holder ``principal`` stands for; PermissionDenied for staff, machines."""
    if principal.kind is AccountKind.CITIZEN:
        check_permission(principal, Permission.ACCOUNT_SELF)
        kind = HolderKind.CITIZEN
    elif principal.kind is AccountKind.ENTERPRISE:
        check_permission(principal, Permission.ENTERPRISE_ACT)
        kind = HolderKind.ENTERPRISE
    else:
        raise PermissionDenied("only citizens and enterprises hold certificates", part="principal")
    return find_holder(conn, kind, principal.subject, today=now.date())


def _audit_details(principal: Principal, details: dict[str, Any]) -> dict[str, Any]:
    if AGENT_ROLE in principal.roles:
        details["agentFor"] = principal.subject
    details["method"] = principal.method
    return details


def request_certificate(
    store: Store,
    clock: Clock,
    authority: CertificateAuthority,
    principal: Principal,
    *,
    csr: bytes | None = None,
    password: str | None = None,
    reissue_fee_fen: int = DEFAULT_REISSUE_FEE_FEN,
) -> tuple[IssuedCertificate, bytes | None]:
    """Issue the caller's certificate for a CSR, or with a generated key (PKCS#12 once).

    Exactly one of ``csr`` and ``password`` is given. Returns the certificate and, for a
    generated key, the PKCS#12 bundle (the platform keeps no copy). Conflict "top up
    first" when a re-issue fee is due and the wallet cannot pay it.
    """
    if (csr is None) == (password is None):
        raise InvalidInput("send either a CSR or generate=true with a password", part="body")
    now = clock.now()
    with store.begin() as conn:
        holder = holder_for(conn, principal, now=now)

        def charge(conn: Connection, holder: Holder, fee_fen: int, serial: str) -> None:
            charge_certificate_fee(conn, holder, fee_fen, serial, now=now)

        bundle: bytes | None = None
        if csr is not None:
            issued = issue_from_csr(
                conn,
                authority,
                holder,
                csr,
                now=now,
                reissue_fee_fen=reissue_fee_fen,
                charge=charge,
            )
        else:
            issued, bundle = issue_with_generated_key(
                conn,
                authority,
                holder,
                password or "",
                now=now,
                reissue_fee_fen=reissue_fee_fen,
                charge=charge,
            )
        details: dict[str, Any] = {
            "serial": issued.serial,
            "keyOrigin": "csr" if csr is not None else "generated",
            "feeFen": issued.fee_fen,
            "superseded": issued.superseded_serial,
        }
        if issued.fee_fen:
            details["transferId"] = fee_transfer_id(issued.serial)
        audit.append(
            conn,
            clock,
            actor=actor_of(principal),
            action="certificate.issued",
            subject=f"{holder.kind.value}:{holder.identifier}",
            details=_audit_details(principal, details),
        )
    return issued, bundle


def next_fee_fen(store: Store, principal: Principal, *, now: datetime, reissue_fee_fen: int) -> int:
    """What the caller's next certificate costs (0 for the first)."""
    with store.connect() as conn:
        holder = holder_for(conn, principal, now=now)
        return certificate_fee_fen(conn, holder, reissue_fee_fen=reissue_fee_fen)


def list_certificates(
    store: Store, principal: Principal, *, now: datetime
) -> list[CertificateRecord]:
    """The caller's certificates, newest first."""
    with store.connect() as conn:
        holder = holder_for(conn, principal, now=now)
        active = conn.execute(
            select(certificate_holder.c.active_serial).where(
                certificate_holder.c.holder_kind == holder.kind.value,
                certificate_holder.c.holder_id == holder.identifier,
            )
        ).scalar()
        rows = conn.execute(
            select(certificate)
            .where(
                certificate.c.holder_kind == holder.kind.value,
                certificate.c.holder_id == holder.identifier,
            )
            .order_by(certificate.c.issued_at.desc(), certificate.c.serial)
        ).all()
    return [
        CertificateRecord(
            serial=row.serial,
            not_before=_utc(row.not_before),
            not_after=_utc(row.not_after),
            issued_at=_utc(row.issued_at),
            key_origin=row.key_origin,
            active=row.serial == active,
            revoked_at=_utc(row.revoked_at) if row.revoked_at is not None else None,
            revocation_reason=row.revocation_reason,
        )
        for row in rows
    ]


def revoke_as(
    store: Store,
    clock: Clock,
    principal: Principal,
    serial: str,
    reason: RevocationReason,
) -> str:
    """Revoke ``serial`` for ``principal``: its holder, or staff with ``certificate.revoke``.

    Returns the normalised serial. NotFound for an unknown serial, PermissionDenied for
    another holder's certificate, Conflict when it is already revoked.
    """
    serial = parse_serial(serial)
    now = clock.now()
    with store.begin() as conn:
        row = conn.execute(
            select(certificate.c.holder_kind, certificate.c.holder_id).where(
                certificate.c.serial == serial
            )
        ).first()
        if row is None:
            raise NotFound(f"no certificate with serial {serial}", serial=serial)
        if principal.kind is AccountKind.STAFF or principal.kind is AccountKind.MACHINE:
            check_permission(principal, Permission.CERTIFICATE_REVOKE)
        else:
            holder = holder_for(conn, principal, now=now)
            owned = (row.holder_kind, row.holder_id) == (holder.kind.value, holder.identifier)
            if not owned and not holds(principal, Permission.CERTIFICATE_REVOKE):
                raise PermissionDenied("this certificate belongs to another holder", serial=serial)
        revoke_certificate(conn, serial, reason, now=now)
        audit.append(
            conn,
            clock,
            actor=actor_of(principal),
            action="certificate.revoked",
            subject=f"{row.holder_kind}:{row.holder_id}",
            details=_audit_details(principal, {"serial": serial, "reason": reason.value}),
        )
    return serial
