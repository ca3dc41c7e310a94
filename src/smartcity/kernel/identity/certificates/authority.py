"""The platform's root and issuing CAs (ECDSA P-256, decision 0008).

Both are created on first use (or by ``smartcity ca init``) and stored in
``certificate_authority`` with their private keys encrypted as PKCS#8 under the CA
passphrase. Only the issuing CA's key is ever loaded after creation: the root key signs
the issuing CA once and then stays encrypted at rest.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.identity.certificates.holders import Holder
from smartcity.kernel.identity.certificates.tables import certificate_authority
from smartcity.kernel.storage import Store

ROOT = "root"
ISSUING = "issuing"
ROOT_VALIDITY = timedelta(days=20 * 365)
ISSUING_VALIDITY = timedelta(days=10 * 365)
CURVE = ec.SECP256R1()
ORGANISATION = "智慧城市平台 Smart City Platform"


def random_serial() -> int:
    """A random, positive 128-bit serial number (CA/Browser Forum asks for ≥ 64 bits)."""
    return secrets.randbits(128) or 1


def serial_text(serial: int) -> str:
    """A serial number as the platform writes it: 32 lowercase hex digits."""
    return f"{serial:032x}"


@dataclass(frozen=True)
class KnownCertificate:
    """A holder certificate whose issuer signature and record already checked out."""

    certificate: x509.Certificate
    public_key: ec.EllipticCurvePublicKey | None  # None: not an ECDSA key
    holder: Holder


@dataclass(frozen=True)
class CertificateAuthority:
    """The loaded CA: both certificates and the issuing CA's private key."""

    root: x509.Certificate
    issuing: x509.Certificate
    issuing_key: ec.EllipticCurvePrivateKey
    # Certificates (by DER) whose issuer signature already checked out, parsed, with the
    # holder their subject names: a certificate's bytes never change, so each is verified
    # against the issuing CA once per process. Revocation and dates are checked every time.
    chain_verified: dict[bytes, KnownCertificate] = field(
        default_factory=dict, compare=False, repr=False
    )
    # Serial -> its record (DER, revocation) read within the last moment; see
    # validation._record for how long an entry is trusted and what drops it.
    status_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def issuing_subject_der(self) -> bytes:
        return self.issuing.subject.public_bytes()

    @cached_property
    def issuing_der(self) -> bytes:
        return self.issuing.public_bytes(serialization.Encoding.DER)

    def chain_pem(self) -> bytes:
        """The issuing CA then the root, PEM: what ``/pki/ca.pem`` serves."""
        return b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in (self.issuing, self.root)
        )

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_certificate(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signing_key: ec.EllipticCurvePrivateKey,
    path_length: int,
    now: datetime,
    validity: timedelta,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(now)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    )
    return builder.sign(signing_key, hashes.SHA256())


def _encrypt(key: ec.EllipticCurvePrivateKey, passphrase: bytes) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    ).decode()


def create_authority(conn: Connection, passphrase: bytes, now: datetime) -> None:
    """Generate the root and issuing CAs and store them (keys encrypted) on ``conn``."""
    if not passphrase:
        raise ConfigurationError("the CA passphrase must not be empty")
    root_key = ec.generate_private_key(CURVE)
    issuing_key = ec.generate_private_key(CURVE)
    root_name = _name("智慧城市根 CA Smart City Root CA")
    root = _ca_certificate(
        subject=root_name,
        issuer=root_name,
        public_key=root_key.public_key(),
        signing_key=root_key,
        path_length=1,
        now=now,
        validity=ROOT_VALIDITY,
    )
    issuing = _ca_certificate(
        subject=_name("智慧城市签发 CA Smart City Issuing CA"),
        issuer=root_name,
        public_key=issuing_key.public_key(),
        signing_key=root_key,
        path_length=0,
        now=now,
        validity=ISSUING_VALIDITY,
    )
    rows = [
        {
            "name": name,
            "certificate_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "encrypted_key_pem": _encrypt(key, passphrase),
            "created_at": now,
        }
        for name, cert, key in ((ROOT, root, root_key), (ISSUING, issuing, issuing_key))
    ]
    conn.execute(insert(certificate_authority), rows)


def _load(conn: Connection, passphrase: bytes) -> CertificateAuthority | None:
    rows = {
        row.name: row
        for row in conn.execute(
            select(
                certificate_authority.c.name,
                certificate_authority.c.certificate_pem,
                certificate_authority.c.encrypted_key_pem,
            )
        )
    }
    if ROOT not in rows or ISSUING not in rows:
        return None
    root = x509.load_pem_x509_certificate(rows[ROOT].certificate_pem.encode())
    issuing = x509.load_pem_x509_certificate(rows[ISSUING].certificate_pem.encode())
    try:
        key = serialization.load_pem_private_key(
            rows[ISSUING].encrypted_key_pem.encode(), password=passphrase
        )
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            "the CA passphrase does not decrypt the issuing CA's key "
            "(check SMARTCITY_CA_PASSPHRASE or the ca-passphrase file)"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigurationError("the issuing CA's key is not an ECDSA key")
    try:
        issuing.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise ConfigurationError("the stored issuing CA is not signed by the stored root") from exc
    return CertificateAuthority(root=root, issuing=issuing, issuing_key=key)


def open_authority(store: Store, passphrase: bytes, clock: Clock) -> CertificateAuthority:
    """The platform's CA, created on first use. Raises :class:`ConfigurationError` when
    the passphrase is wrong."""
    with store.connect() as conn:
        loaded = _load(conn, passphrase)
    if loaded is not None:
        return loaded
    try:
        with store.begin() as conn:
            if _load(conn, passphrase) is None:
                create_authority(conn, passphrase, clock.now())
    except IntegrityError:
        pass  # another process created it at the same moment; theirs is as good
    with store.connect() as conn:
        loaded = _load(conn, passphrase)
    if loaded is None:  # pragma: no cover - only if the rows vanish between statements
        raise ConfigurationError("the certificate authority could not be created")
    return loaded
