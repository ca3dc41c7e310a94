"""Just enough DER to read, and to write, a detached CMS SignedData (RFC 5652) with one
signer.

``cryptography`` builds CMS signatures but cannot verify them, so the platform reads the
parts it needs here: the certificates, the signer's issuer and serial, the digest
algorithm, the signed attributes (messageDigest, signingTime) and the signature.
Indefinite (BER) lengths are refused: the platform's signatures are DER.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smartcity.kernel.identity.certificates.errors import CertificateRejected, Check

SIGNED_DATA = "1.2.840.113549.1.7.2"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_TIME = "1.2.840.113549.1.9.5"
# Their content octets, compared as bytes on the hot path instead of decoding each OID.
_MESSAGE_DIGEST_OCTETS = bytes.fromhex("2a864886f70d010904")
_SIGNING_TIME_OCTETS = bytes.fromhex("2a864886f70d010905")

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
OCTET_STRING = 0x04
OID = 0x06
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
CONTEXT_0 = 0xA0
CONTEXT_1 = 0xA1


class Element(NamedTuple):
    """One DER element: its tag and where its whole encoding and its content lie."""

    tag: int
    start: int
    content: int
    end: int


@dataclass(frozen=True)
class SignedData:
    """The parts of a detached CMS signature the verifier needs."""

    certificates: tuple[bytes, ...]  # DER of each certificate carried, loaded on demand
    signer_issuer: bytes  # DER of the signer's issuer Name
    signer_serial: int
    digest_algorithm: str  # dotted OID
    signed_attributes: bytes  # DER re-tagged as SET OF, as it was signed
    message_digest: bytes
    signing_time: datetime | None
    signature: bytes


def _malformed(reason: str) -> CertificateRejected:
    return CertificateRejected(f"malformed signature: {reason}", Check.MALFORMED)


def read_element(data: bytes, offset: int, limit: int) -> Element:
    """The DER element starting at ``offset`` (which must end by ``limit``)."""
    if offset + 2 > limit:
        raise _malformed("truncated element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise _malformed("high tag numbers are not used in CMS")
    length = data[offset + 1]
    position = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise _malformed("indefinite or oversized length (BER is not accepted)")
        if position + count > limit:
            raise _malformed("truncated length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    end = position + length
    if end > limit:
        raise _malformed("an element runs past its container")
    return Element(tag, offset, position, end)


def children(data: bytes, parent: Element) -> list[Element]:
    """The elements inside a constructed element."""
    found = []
    offset = parent.content
    while offset < parent.end:
        element = read_element(data, offset, parent.end)
        found.append(element)
        offset = element.end
    return found


def _expect(element: Element, tag: int, what: str) -> Element:
    if element.tag != tag:
        raise _malformed(f"expected {what}")
    return element


def decode_oid(content: bytes) -> str:
    """Dotted text of an OBJECT IDENTIFIER's content octets."""
    if not content:
        raise _malformed("empty object identifier")
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if content[-1] & 0x80:
        raise _malformed("truncated object identifier")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def _oid(data: bytes, element: Element) -> str:
    return decode_oid(data[_expect(element, OID, "an object identifier").content : element.end])


def _time(data: bytes, element: Element) -> datetime:
    text = data[element.content : element.end]
    # UTCTime YYMMDDHHMMSSZ (years 1950-2049) or GeneralizedTime YYYYMMDDHHMMSSZ.
    if element.tag == UTC_TIME and len(text) == 13:
        digits = text[:12]
    elif element.tag == GENERALIZED_TIME and len(text) == 15:
        digits = text[:14]
    else:
        raise _malformed("signingTime is not a UTC time")
    if not digits.isdigit() or text[-1:] != b"Z":
        raise _malformed("signingTime is not a valid time")
    if len(digits) == 12:
        year = int(digits[:2])
        year += 1900 if year >= 50 else 2000
        digits = digits[2:]
    else:
        year = int(digits[:4])
        digits = digits[4:]
    month, day, hour, minute, second = (int(digits[i : i + 2]) for i in range(0, 10, 2))
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise _malformed("signingTime is not a valid time") from exc


def parse_signed_data(data: bytes) -> SignedData:
    """Read a DER ContentInfo holding a detached SignedData with exactly one signer."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise _malformed("empty")
    data = bytes(data)
    top = _expect(read_element(data, 0, len(data)), SEQUENCE, "a ContentInfo")
    if top.end != len(data):
        raise _malformed("trailing bytes after the signature")
    info = children(data, top)
    if len(info) != 2 or _oid(data, info[0]) != SIGNED_DATA:
        raise _malformed("not a CMS SignedData")
    wrapper = children(data, _expect(info[1], CONTEXT_0, "explicit content"))
    if len(wrapper) != 1:
        raise _malformed("explicit content must hold one SignedData")
    parts = children(data, _expect(wrapper[0], SEQUENCE, "a SignedData"))
    if len(parts) < 4:
        raise _malformed("SignedData is incomplete")
    encapsulated = children(data, _expect(parts[2], SEQUENCE, "encapsulated content info"))
    if len(encapsulated) != 1:
        raise _malformed("the signature is not detached (it carries its content)")
    certificates: list[bytes] = []
    index = 3
    if parts[index].tag == CONTEXT_0:
        certificates.extend(
            data[element.start : element.end] for element in children(data, parts[index])
        )
        index += 1
    if index < len(parts) and parts[index].tag == CONTEXT_1:
        index += 1  # CRLs: revocation is checked against the platform's own records
    if index != len(parts) - 1:
        raise _malformed("SignedData has unexpected parts")
    signers = children(data, _expect(parts[index], SET, "signer infos"))
    if len(signers) != 1:
        raise _malformed("exactly one signer is expected")
    return _signer(data, signers[0], tuple(certificates))


def _signer(data: bytes, signer: Element, certificates: tuple[bytes, ...]) -> SignedData:
    fields = children(data, _expect(signer, SEQUENCE, "a SignerInfo"))
    # version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature, ...
    if len(fields) < 6:
        raise _malformed("SignerInfo is incomplete (signed attributes are required)")
    identifier = children(data, _expect(fields[1], SEQUENCE, "issuer and serial number"))
    if len(identifier) != 2:
        raise _malformed("the signer is not named by issuer and serial number")
    issuer = _expect(identifier[0], SEQUENCE, "an issuer name")
    serial = _expect(identifier[1], INTEGER, "a serial number")
    digest = children(data, _expect(fields[2], SEQUENCE, "a digest algorithm"))
    if not digest:
        raise _malformed("empty digest algorithm")
    attributes = _expect(fields[3], CONTEXT_0, "signed attributes")
    signature = _expect(fields[5], OCTET_STRING, "a signature")
    message_digest: bytes | None = None
    signing_time: datetime | None = None
    for attribute in children(data, attributes):
        pair = children(data, _expect(attribute, SEQUENCE, "an attribute"))
        if len(pair) != 2:
            raise _malformed("an attribute has no values")
        values = children(data, _expect(pair[1], SET, "attribute values"))
        kind = data[_expect(pair[0], OID, "an object identifier").content : pair[0].end]
        if kind == _MESSAGE_DIGEST_OCTETS and len(values) == 1:
            value = _expect(values[0], OCTET_STRING, "a message digest")
            message_digest = data[value.content : value.end]
        elif kind == _SIGNING_TIME_OCTETS and len(values) == 1:
            signing_time = _time(data, values[0])
    if message_digest is None:
        raise _malformed("no messageDigest attribute")
    # The signature covers the attributes encoded as a SET OF (RFC 5652, 5.4).
    signed = bytes([SET]) + data[attributes.start + 1 : attributes.end]
    return SignedData(
        certificates=certificates,
        signer_issuer=data[issuer.start : issuer.end],
        signer_serial=int.from_bytes(data[serial.content : serial.end], "big", signed=True),
        digest_algorithm=_oid(data, digest[0]),
        signed_attributes=signed,
        message_digest=message_digest,
        signing_time=signing_time,
        signature=data[signature.content : signature.end],
    )


# Writing: the platform's own signatures, built from parts prepared once per signer.
_DATA_OCTETS = bytes.fromhex("2a864886f70d010701")
_SIGNED_DATA_OCTETS = bytes.fromhex("2a864886f70d010702")
_CONTENT_TYPE_OCTETS = bytes.fromhex("2a864886f70d010903")
_SHA256_OCTETS = bytes.fromhex("608648016503040201")
_ECDSA_SHA256_OCTETS = bytes.fromhex("2a8648ce3d040302")


def encode(tag: int, content: bytes) -> bytes:
    """One DER element (definite length)."""
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big") + content


def _integer(value: int) -> bytes:
    size = value.bit_length() // 8 + 1  # room for the sign bit
    return encode(INTEGER, value.to_bytes(size, "big", signed=True))


def _der_set(elements: list[bytes]) -> bytes:
    # DER orders the members of a SET OF by their encodings.
    return encode(SET, b"".join(sorted(elements)))


class DetachedSigner:
    """Detached CMS SignedData (RFC 5652) with one ECDSA P-256 signer, built by hand.

    Everything but the signed attributes and the signature is the same for every
    document, so it is encoded once here; a signature then costs the digest, three
    small attributes and one ECDSA signature. The result is what
    :func:`~smartcity.kernel.identity.certificates.signatures.sign_document` makes
    (SHA-256, signingTime, the certificates carried), verifiable with
    ``openssl cms -verify -binary``.
    """

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        self._key = key
        self._algorithm = ec.ECDSA(hashes.SHA256())
        der = serialization.Encoding.DER
        sha256 = encode(SEQUENCE, encode(OID, _SHA256_OCTETS))
        self._signer_head = (
            _integer(1)
            + encode(
                SEQUENCE, certificate.issuer.public_bytes() + _integer(certificate.serial_number)
            )
            + sha256
        )
        self._signature_algorithm = encode(SEQUENCE, encode(OID, _ECDSA_SHA256_OCTETS))
        certificates = [certificate.public_bytes(der)] + [c.public_bytes(der) for c in chain]
        self._data_head = (
            _integer(1)
            + encode(SET, sha256)
            + encode(SEQUENCE, encode(OID, _DATA_OCTETS))
            + encode(CONTEXT_0, b"".join(sorted(set(certificates))))
        )
        self._content_type = encode(
            SEQUENCE,
            encode(OID, _CONTENT_TYPE_OCTETS) + encode(SET, encode(OID, _DATA_OCTETS)),
        )

    def sign(self, content: bytes, signing_time: datetime) -> bytes:
        """A detached signature (DER) over ``content``, stating ``signing_time``."""
        moment = signing_time.astimezone(UTC)
        if not 1950 <= moment.year < 2050:
            raise ValueError("signingTime is a UTCTime: years 1950 to 2049")
        digest = hashlib.sha256(content).digest()
        attributes = _der_set(
            [
                self._content_type,
                encode(
                    SEQUENCE,
                    encode(OID, _SIGNING_TIME_OCTETS)
                    + encode(SET, encode(UTC_TIME, moment.strftime("%y%m%d%H%M%SZ").encode())),
                ),
                encode(
                    SEQUENCE,
                    encode(OID, _MESSAGE_DIGEST_OCTETS) + encode(SET, encode(OCTET_STRING, digest)),
                ),
            ]
        )
        # The signature covers the attributes as a SET; they travel tagged [0].
        signature = self._key.sign(attributes, self._algorithm)
        signer_info = encode(
            SEQUENCE,
            self._signer_head
            + encode(CONTEXT_0, attributes[_header_length(attributes) :])
            + self._signature_algorithm
            + encode(OCTET_STRING, signature),
        )
        signed_data = encode(SEQUENCE, self._data_head + encode(SET, signer_info))
        return encode(SEQUENCE, encode(OID, _SIGNED_DATA_OCTETS) + encode(CONTEXT_0, signed_data))


def _header_length(element: bytes) -> int:
    return 2 if element[1] < 0x80 else 2 + (element[1] & 0x7F)
