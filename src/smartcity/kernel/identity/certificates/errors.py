"""Why a certificate or a signature was refused.

Every refusal is a :class:`CertificateRejected` (422) whose ``check`` detail names the
check that failed, so clients can tell an expired certificate from a forged signature.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from smartcity.kernel.errors import InvalidInput

# What parsing a damaged certificate, CSR or key may raise in `cryptography` (some parts
# are decoded lazily, so these can come from any attribute access, not only from load).
PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    x509.InvalidVersion,
    UnsupportedAlgorithm,
)


class Check(StrEnum):
    """The checks a certificate or a signature must pass, in the order they run."""

    MALFORMED = "malformed"
    UNTRUSTED = "untrusted"  # not issued by this platform's CA (wrong chain)
    UNKNOWN = "unknown"  # chains to us, but we have no record of issuing it
    NOT_YET_VALID = "not-yet-valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    FORGED = "forged"  # the signature does not match the content or the key


class CertificateRejected(InvalidInput):
    """A certificate or signature failed a check; ``check`` says which."""

    code = "certificate-rejected"
    title = "Certificate or signature rejected"

    def __init__(self, reason: str, check: Check, **details: Any) -> None:
        super().__init__(reason, check=check.value, **details)
        self.check = check
