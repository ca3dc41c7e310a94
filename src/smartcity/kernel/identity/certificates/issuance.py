"""Issuing end-entity certificates: one active certificate per holder.

The write functions take an open :class:`Connection` from ``store.begin()`` so a caller
can charge the re-issue fee in the same transaction: pass ``charge`` and it is called,
before anything is written, with the fee in fen whenever the fee is not zero and the
serial the new certificate will carry (so the charge can be keyed to it: a retried
charge for the same certificate names the same ledger transfer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.errors import Conflict, InvalidInput
from smartcity.kernel.identity.certificates.authority import (
    CURVE,
    CertificateAuthority,
    random_serial,
    serial_text,
)
from smartcity.kernel.identity.certificates.errors import PARSE_ERRORS
from smartcity.kernel.identity.certificates.holders import Holder, subject_name
from smartcity.kernel.identity.certificates.revocation import RevocationReason, revoke_certificate
from smartcity.kernel.identity.certificates.tables import certificate, certificate_holder

DEFAULT_VALIDITY = timedelta(days=2 * 365)
DEFAULT_REISSUE_FEE_FEN = 2000
MINIMUM_PKCS12_PASSWORD = 8
# RFC 9336 id-kp-documentSigning.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ACCEPTED_CURVES = ("secp256r1", "secp384r1")

# charge(conn, holder, fee_fen, serial): raise to refuse the issuance.
Charge = Callable[[Connection, Holder, int, str], None]


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate just issued, with what the issuance cost and what it replaced."""

    serial: str
    holder: Holder
    certificate: x509.Certificate
    fee_fen: int
    superseded_serial: str | None

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def certificate_fee_fen(
    conn: Connection, holder: Holder, *, reissue_fee_fen: int = DEFAULT_REISSUE_FEE_FEN
) -> int:
    """What the next certificate for ``holder`` costs: 0 for the first, then the fee."""
    count = conn.execute(
        select(certificate_holder.c.issued_count).where(
            certificate_holder.c.holder_kind == holder.kind.value,
            certificate_holder.c.holder_id == holder.identifier,
        )
    ).scalar()
    return 0 if not count else reissue_fee_fen


def load_csr(data: bytes) -> x509.CertificateSigningRequest:
    """Parse a PEM or DER CSR whose self-signature holds and whose key we accept."""
    try:
        if data.lstrip().startswith(b"-----"):
            csr = x509.load_pem_x509_csr(data)
        else:
            csr = x509.load_der_x509_csr(data)
        valid = csr.is_signature_valid
        key = csr.public_key()
    except PARSE_ERRORS as exc:
        raise InvalidInput("the CSR is not a PEM or DER certification request", part="csr") from exc
    if not valid:
        raise InvalidInput("the CSR's signature does not match its key", part="csr")
    check_public_key(key)
    return csr


def check_public_key(key: object) -> ec.EllipticCurvePublicKey:
    """Accept ECDSA keys on P-256 or P-384 (decision 0008)."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in ACCEPTED_CURVES:
        raise InvalidInput("the key must be ECDSA on P-256 or P-384", part="key")
    return key


def _certificate(
    authority: CertificateAuthority,
    holder: Holder,
    public_key: ec.EllipticCurvePublicKey,
    serial: int,
    now: datetime,
    validity: timedelta,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject_name(holder))
        .issuer_name(authority.issuing.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [
                    ExtendedKeyUsageOID.CLIENT_AUTH,
                    ExtendedKeyUsageOID.EMAIL_PROTECTION,
                    DOCUMENT_SIGNING,
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.issuing_key.public_key()),
            critical=False,
        )
        .sign(authority.issuing_key, hashes.SHA256())
    )


def issue_certificate(
    conn: Connection,
    authority: CertificateAuthority,
    holder: Holder,
    public_key: ec.EllipticCurvePublicKey,
    *,
    now: datetime,
    key_origin: str = "csr",
    validity: timedelta = DEFAULT_VALIDITY,
    reissue_fee_fen: int = DEFAULT_REISSUE_FEE_FEN,
    charge: Charge | None = None,
) -> IssuedCertificate:
    """Issue a certificate for ``holder``'s ``public_key`` on the open transaction ``conn``.

    The holder's previous certificate, if any, is revoked with reason ``superseded``: one
    certificate serves every service. The first certificate is free; later ones cost
    ``reissue_fee_fen``, charged through ``charge(conn, holder, fee_fen, serial)`` before
    anything is written.
    """
    check_public_key(public_key)
    key = {
        "holder_kind": holder.kind.value,
        "holder_id": holder.identifier,
    }
    # FOR UPDATE (PostgreSQL) holds the holder row until commit, so two issuances to the
    # same holder happen one after the other; SQLite's writer lock already does that.
    current = conn.execute(
        select(certificate_holder.c.active_serial, certificate_holder.c.issued_count)
        .where(
            certificate_holder.c.holder_kind == key["holder_kind"],
            certificate_holder.c.holder_id == key["holder_id"],
        )
        .with_for_update()
    ).first()
    fee = 0 if current is None or current.issued_count == 0 else reissue_fee_fen
    serial = random_serial()
    serial_hex = serial_text(serial)
    if fee and charge is not None:
        charge(conn, holder, fee, serial_hex)
    issued = _certificate(authority, holder, public_key, serial, now, validity)
    superseded = current.active_serial if current is not None else None
    if superseded is not None:
        revoke_certificate(conn, superseded, RevocationReason.SUPERSEDED, now=now)
    conn.execute(
        insert(certificate).values(
            serial=serial_hex,
            holder_kind=key["holder_kind"],
            holder_id=key["holder_id"],
            not_before=issued.not_valid_before_utc,
            not_after=issued.not_valid_after_utc,
            issued_at=now,
            key_origin=key_origin,
            certificate_der=issued.public_bytes(serialization.Encoding.DER),
        )
    )
    if current is None:
        try:
            conn.execute(
                insert(certificate_holder).values(**key, active_serial=serial_hex, issued_count=1)
            )
        except IntegrityError as exc:
            raise Conflict(
                "another certificate is being issued to this holder; try again",
                holder=holder.identifier,
            ) from exc
    else:
        conn.execute(
            update(certificate_holder)
            .where(
                certificate_holder.c.holder_kind == key["holder_kind"],
                certificate_holder.c.holder_id == key["holder_id"],
            )
            .values(active_serial=serial_hex, issued_count=current.issued_count + 1)
        )
    return IssuedCertificate(
        serial=serial_hex,
        holder=holder,
        certificate=issued,
        fee_fen=fee,
        superseded_serial=superseded,
    )


def issue_from_csr(
    conn: Connection,
    authority: CertificateAuthority,
    holder: Holder,
    csr: bytes,
    *,
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
    reissue_fee_fen: int = DEFAULT_REISSUE_FEE_FEN,
    charge: Charge | None = None,
) -> IssuedCertificate:
    """Issue for the key in the holder's CSR (preferred: the private key never leaves them).

    Only the CSR's key is used; the subject comes from the registry.
    """
    request = load_csr(csr)
    return issue_certificate(
        conn,
        authority,
        holder,
        check_public_key(request.public_key()),
        now=now,
        key_origin="csr",
        validity=validity,
        reissue_fee_fen=reissue_fee_fen,
        charge=charge,
    )


def issue_with_generated_key(
    conn: Connection,
    authority: CertificateAuthority,
    holder: Holder,
    password: str,
    *,
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
    reissue_fee_fen: int = DEFAULT_REISSUE_FEE_FEN,
    charge: Charge | None = None,
) -> tuple[IssuedCertificate, bytes]:
    """Generate a key for the holder and return it once, as PKCS#12 under ``password``.

    The platform keeps no copy of the private key.
    """
    if not isinstance(password, str) or len(password) < MINIMUM_PKCS12_PASSWORD:
        raise InvalidInput(
            f"the PKCS#12 password must have at least {MINIMUM_PKCS12_PASSWORD} characters",
            part="password",
        )
    private_key = ec.generate_private_key(CURVE)
    issued = issue_certificate(
        conn,
        authority,
        holder,
        private_key.public_key(),
        now=now,
        key_origin="generated",
        validity=validity,
        reissue_fee_fen=reissue_fee_fen,
        charge=charge,
    )
    bundle = pkcs12.serialize_key_and_certificates(
        name=holder.identifier.encode(),
        key=private_key,
        cert=issued.certificate,
        cas=[authority.issuing, authority.root],
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )
    return issued, bundle
