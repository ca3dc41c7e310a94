"""An OCSP responder (RFC 6960) for the certificates of the issuing CA.

Responses are signed by the issuing CA itself (no delegated responder certificate), so a
client that trusts the root needs nothing else. A request for another CA's certificate is
answered ``unauthorized``; a request that does not parse, ``malformedRequest``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from sqlalchemy import Connection, bindparam, select

from smartcity.kernel.identity.certificates.authority import CertificateAuthority, serial_text
from smartcity.kernel.identity.certificates.revocation import RevocationReason
from smartcity.kernel.identity.certificates.tables import certificate

RESPONSE_LIFETIME = timedelta(hours=1)
_STATUS = select(certificate.c.revoked_at, certificate.c.revocation_reason).where(
    certificate.c.serial == bindparam("serial")
)
_DER = serialization.Encoding.DER


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(_DER)


def _issuer_hashes(
    authority: CertificateAuthority, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    name = hashes.Hash(algorithm)
    name.update(authority.issuing.subject.public_bytes())
    key = hashes.Hash(algorithm)
    # The hash of the subjectPublicKey BIT STRING's value: for EC, the encoded point.
    key.update(
        authority.issuing.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return name.finalize(), key.finalize()


def answer_ocsp(
    conn: Connection, authority: CertificateAuthority, request_der: bytes, *, now: datetime
) -> bytes:
    """The DER OCSP response to a DER OCSP request (never raises on bad input)."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        serial = request.serial_number
        algorithm = request.hash_algorithm
        name_hash, key_hash = request.issuer_name_hash, request.issuer_key_hash
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if (name_hash, key_hash) != _issuer_hashes(authority, algorithm):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    row = (
        conn.execute(_STATUS, {"serial": serial_text(serial)}).first()
        if 0 < serial < 2**160
        else None
    )
    revocation_time = None
    reason = None
    if row is None:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif row.revoked_at is None:
        status = ocsp.OCSPCertStatus.GOOD
    else:
        status = ocsp.OCSPCertStatus.REVOKED
        revocation_time = row.revoked_at
        reason = RevocationReason(row.revocation_reason).flag
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=name_hash,
            issuer_key_hash=key_hash,
            serial_number=serial,
            algorithm=algorithm,
            cert_status=status,
            this_update=now,
            next_update=now + RESPONSE_LIFETIME,
            revocation_time=revocation_time,
            revocation_reason=reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, authority.issuing)
    )
    for extension in request.extensions:
        if isinstance(extension.value, x509.OCSPNonce):
            builder = builder.add_extension(extension.value, critical=False)
    return builder.sign(authority.issuing_key, hashes.SHA256()).public_bytes(_DER)
