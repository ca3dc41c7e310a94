"""Tables of the certificate authority: its own keys, the certificates it issued, holders.

Private keys are stored only as encrypted PKCS#8 PEM (decision 0008). Serial numbers are
stored as 32 lowercase hex digits (128 bits), the form the status route takes.
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from smartcity.kernel.storage.schema import metadata

# One row per CA: "root" and "issuing".
certificate_authority = Table(
    "certificate_authority",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("certificate_pem", Text, nullable=False),
    Column("encrypted_key_pem", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

certificate = Table(
    "certificate",
    metadata,
    Column("serial", String(40), primary_key=True),
    Column("holder_kind", String(16), nullable=False),
    Column("holder_id", String(18), nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=False),
    Column("not_after", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    # "csr" (the holder's own key) or "generated" (returned once as PKCS#12).
    Column("key_origin", String(16), nullable=False),
    Column("certificate_der", LargeBinary, nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # RFC 5280 CRLReason name, e.g. "superseded", "key_compromise".
    Column("revocation_reason", String(32), nullable=True),
    CheckConstraint("holder_kind IN ('citizen', 'enterprise')", name="holder_kind"),
)

# One row per holder: the active certificate and how many were ever issued (for the fee).
# Its primary key also serialises concurrent issuance to the same holder.
certificate_holder = Table(
    "certificate_holder",
    metadata,
    Column("holder_kind", String(16), primary_key=True),
    Column("holder_id", String(18), primary_key=True),
    Column("active_serial", String(40), nullable=True),
    Column("issued_count", Integer, nullable=False),
)

# Certificate sign-in challenges: random, single use, short-lived. Only the SHA-256 of the
# challenge is kept, so a reader of the database cannot answer one on anybody's behalf
# without also holding the value the client received.
certificate_challenge = Table(
    "certificate_challenge",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("challenge_hash", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("used_at", DateTime(timezone=True), nullable=True),
)
