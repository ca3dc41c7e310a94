"""The platform's certificate authority and signatures (decision 0008).

A root and an issuing CA (ECDSA P-256, keys encrypted at rest), one certificate per
citizen or enterprise valid for every service, revocation with a status look-up and a
CRL, detached CMS signatures anyone can verify with OpenSSL, and challenge signatures
for certificate login. See ``docs/kernel/certificates.md``.
"""

from smartcity.kernel.identity.certificates.authority import (
    CertificateAuthority,
    create_authority,
    open_authority,
    serial_text,
)
from smartcity.kernel.identity.certificates.cms import DetachedSigner
from smartcity.kernel.identity.certificates.errors import CertificateRejected, Check
from smartcity.kernel.identity.certificates.holders import (
    Holder,
    HolderKind,
    find_holder,
    holder_of,
)
from smartcity.kernel.identity.certificates.issuance import (
    IssuedCertificate,
    certificate_fee_fen,
    issue_certificate,
    issue_from_csr,
    issue_with_generated_key,
    load_csr,
)
from smartcity.kernel.identity.certificates.ocsp import answer_ocsp
from smartcity.kernel.identity.certificates.passphrase import resolve_ca_passphrase
from smartcity.kernel.identity.certificates.revocation import (
    CertificateStatus,
    RevocationReason,
    build_crl,
    certificate_status,
    parse_reason,
    parse_serial,
    revoke_certificate,
)
from smartcity.kernel.identity.certificates.signatures import (
    SigningIdentity,
    VerifiedSignature,
    load_signing_identity,
    sign_challenge,
    sign_document,
    verify_challenge_signature,
    verify_document_signature,
)
from smartcity.kernel.identity.certificates.validation import (
    ValidCertificate,
    check_certificate,
    load_certificate,
)

__all__ = [
    "CertificateAuthority",
    "CertificateRejected",
    "CertificateStatus",
    "Check",
    "DetachedSigner",
    "Holder",
    "HolderKind",
    "IssuedCertificate",
    "RevocationReason",
    "SigningIdentity",
    "ValidCertificate",
    "VerifiedSignature",
    "answer_ocsp",
    "build_crl",
    "certificate_fee_fen",
    "certificate_status",
    "check_certificate",
    "create_authority",
    "find_holder",
    "holder_of",
    "issue_certificate",
    "issue_from_csr",
    "issue_with_generated_key",
    "load_certificate",
    "load_csr",
    "load_signing_identity",
    "open_authority",
    "parse_reason",
    "parse_serial",
    "resolve_ca_passphrase",
    "revoke_certificate",
    "serial_text",
    "sign_challenge",
    "sign_document",
    "verify_challenge_signature",
    "verify_document_signature",
]
