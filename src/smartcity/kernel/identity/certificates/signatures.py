"""Detached document signatures (CMS, DER) and certificate-login challenges.

A document signature is a CMS SignedData (RFC 5652) without its content, carrying the
signer's and the issuing CA's certificates, so anyone verifies it with the root alone::

    openssl cms -verify -binary -inform DER -in doc.p7s -content doc \\
        -CAfile root.pem -purpose any

The platform verifies the same bytes itself (:func:`verify_document_signature`): the
content's digest, the signature over the signed attributes, then the certificate
(our chain, on record, valid at the time, not revoked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from sqlalchemy import Connection

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity.certificates.authority import CertificateAuthority
from smartcity.kernel.identity.certificates.cms import parse_signed_data
from smartcity.kernel.identity.certificates.errors import PARSE_ERRORS, CertificateRejected, Check
from smartcity.kernel.identity.certificates.holders import Holder
from smartcity.kernel.identity.certificates.validation import (
    check_certificate,
    load_certificate,
)

DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}


@dataclass(frozen=True)
class SigningIdentity:
    """A holder's private key with its certificate and the chain above it."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that passed every check: who signed, with which certificate."""

    holder: Holder
    serial: str
    certificate: x509.Certificate
    # What the signer's software claimed; informative only, never trusted for validity.
    claimed_signing_time: datetime | None


def load_signing_identity(
    key_data: bytes,
    *,
    password: str | None = None,
    certificate_data: bytes | None = None,
) -> SigningIdentity:
    """A signing identity from a PKCS#12 bundle, or a PEM/DER key plus a certificate."""
    secret = password.encode() if password else None
    if certificate_data is None:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(key_data, secret)
        except PARSE_ERRORS as exc:
            raise InvalidInput(
                "not a PKCS#12 bundle, or the password is wrong", part="key"
            ) from exc
        if cert is None:
            raise InvalidInput("the PKCS#12 bundle holds no certificate", part="key")
        chain = tuple(c for c in extra if c.subject != c.issuer)
    else:
        try:
            if key_data.lstrip().startswith(b"-----"):
                key = serialization.load_pem_private_key(key_data, secret)
            else:
                key = serialization.load_der_private_key(key_data, secret)
        except PARSE_ERRORS as exc:
            raise InvalidInput("the private key does not load (password?)", part="key") from exc
        cert = load_certificate(certificate_data)
        chain = ()
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidInput("the key must be an ECDSA key", part="key")
    if cert.public_key() != key.public_key():
        raise InvalidInput("the certificate is not for this key", part="certificate")
    return SigningIdentity(key=key, certificate=cert, chain=chain)


def sign_document(
    content: bytes,
    identity: SigningIdentity,
    *,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """A detached CMS signature (DER) over ``content``, carrying the signer's chain.

    ``chain`` (default: the identity's) should hold the issuing CA so a verifier needs
    only the root. The content is signed as is (binary, no line-ending conversion).
    """
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(identity.certificate, identity.key, hashes.SHA256())
    )
    for extra in chain or identity.chain:
        builder = builder.add_certificate(extra)
    return builder.sign(
        serialization.Encoding.DER,
        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
    )


def _signer(
    carried: tuple[bytes, ...], serial: int, issuer: bytes, authority: CertificateAuthority
) -> tuple[x509.Certificate, bytes, ec.EllipticCurvePublicKey | None] | None:
    """The carried certificate that names the signer, its DER and its ECDSA key.

    The copy of our issuing CA is skipped; certificates seen before come parsed from the
    authority's cache.
    """
    for der in carried:
        if der == authority.issuing_der:
            continue
        known = authority.chain_verified.get(der)
        if known is not None:
            if (
                known.certificate.serial_number == serial
                and issuer == authority.issuing_subject_der
            ):
                return known.certificate, der, known.public_key
            continue
        try:
            candidate = x509.load_der_x509_certificate(der)
            if candidate.serial_number == serial and candidate.issuer.public_bytes() == issuer:
                key = candidate.public_key()
                public_key = key if isinstance(key, ec.EllipticCurvePublicKey) else None
                return candidate, der, public_key
        except PARSE_ERRORS as exc:
            raise CertificateRejected(
                "a certificate inside does not parse", Check.MALFORMED
            ) from exc
    return None


def verify_document_signature(
    conn: Connection,
    authority: CertificateAuthority,
    content: bytes,
    signature: bytes,
    *,
    now: datetime,
    signed_at: datetime | None = None,
) -> VerifiedSignature:
    """Verify a detached CMS signature over ``content``.

    ``signed_at`` is when the platform received the signed document (its own record);
    the certificate must have been valid then (default: now). Every failure is a
    :class:`CertificateRejected` naming the check.
    """
    parsed = parse_signed_data(signature)
    algorithm = DIGESTS.get(parsed.digest_algorithm)
    if algorithm is None:
        raise CertificateRejected(
            f"unsupported digest algorithm {parsed.digest_algorithm}", Check.MALFORMED
        )
    found = _signer(parsed.certificates, parsed.signer_serial, parsed.signer_issuer, authority)
    if found is None:
        raise CertificateRejected("the signature carries no signer certificate", Check.MALFORMED)
    signer, signer_der, public_key = found
    digest = hashes.Hash(algorithm())
    digest.update(content)
    if digest.finalize() != parsed.message_digest:
        raise CertificateRejected("the document does not match the signature", Check.FORGED)
    if public_key is None:
        raise CertificateRejected("the signer's key is not an ECDSA key", Check.MALFORMED)
    try:
        public_key.verify(parsed.signature, parsed.signed_attributes, ec.ECDSA(algorithm()))
    except InvalidSignature as exc:
        raise CertificateRejected("the signature does not verify", Check.FORGED) from exc
    valid = check_certificate(conn, authority, signer, now=now, at=signed_at, der=signer_der)
    return VerifiedSignature(
        holder=valid.holder,
        serial=valid.serial,
        certificate=signer,
        claimed_signing_time=parsed.signing_time,
    )


def sign_challenge(key: ec.EllipticCurvePrivateKey, challenge: bytes) -> bytes:
    """The holder's ECDSA-SHA256 signature (DER) over a server challenge."""
    return key.sign(challenge, ec.ECDSA(hashes.SHA256()))


def verify_challenge_signature(
    conn: Connection,
    authority: CertificateAuthority,
    certificate_data: bytes,
    challenge: bytes,
    signature: bytes,
    *,
    now: datetime,
) -> Holder:
    """Certificate login: the holder of a currently valid certificate signed ``challenge``.

    The caller issues the challenge (random, single use, short-lived) and turns the
    returned holder into tokens.
    """
    if not challenge:
        raise InvalidInput("the challenge is empty", part="challenge")
    candidate = load_certificate(certificate_data)
    try:
        public_key = candidate.public_key()
    except PARSE_ERRORS as exc:
        raise CertificateRejected("the certificate does not parse", Check.MALFORMED) from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise CertificateRejected("the certificate's key is not an ECDSA key", Check.MALFORMED)
    try:
        public_key.verify(signature, challenge, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise CertificateRejected("the challenge signature does not verify", Check.FORGED) from exc
    return check_certificate(conn, authority, candidate, now=now).holder
