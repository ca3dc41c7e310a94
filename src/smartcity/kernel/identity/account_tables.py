"""Tables of accounts and sessions: who may sign in, how, and the refresh tokens they hold.

An account is a way to sign in, bound to a registry row (a citizen, an enterprise, a staff
member) or, for machine clients, standing alone. Secrets are never stored in the clear:
passwords as argon2 hashes, client secrets and refresh tokens as SHA-256 digests (they are
random 256-bit values, so a slow hash adds nothing), TOTP secrets encrypted with AES-GCM.
"""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
)

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

identity_account = Table(
    "identity_account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(12), nullable=False),
    # What the account signs in with: a national ID, a USCC, an employee number, a client id.
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("citizen_id", Integer, ForeignKey("identity_citizen.id"), nullable=True),
    Column("enterprise_id", Integer, ForeignKey("identity_enterprise.id"), nullable=True),
    Column("staff_id", Integer, ForeignKey("identity_staff.id"), nullable=True),
    # Staff and department systems act within one department.
    Column("department_code", String(16), nullable=True),
    # Machine clients: space-separated permission names they were granted.
    Column("scopes", String(400), nullable=True),
    # argon2 encoded hash (people) or hex SHA-256 of the client secret (machines).
    Column("secret_hash", String(128), nullable=False),
    # AES-GCM nonce + ciphertext, URL-safe base64; set at enrolment, enabled on confirmation.
    Column("totp_secret", String(128), nullable=True),
    Column("totp_enabled", Boolean, nullable=False),
    # The last accepted time step, so one code cannot be replayed inside its window.
    Column("totp_last_step", Integer, nullable=True),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    CheckConstraint("kind IN ('citizen', 'enterprise', 'staff', 'machine')", name="kind"),
)

identity_enterprise_agent = Table(
    "identity_enterprise_agent",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "enterprise_id",
        Integer,
        ForeignKey("identity_enterprise.id"),
        nullable=False,
        index=True,
    ),
    # The citizen account authorised to act for the enterprise.
    Column("agent_account_id", Integer, ForeignKey("identity_account.id"), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("granted_by", Integer, nullable=False),
    Column("withdrawn_at", UtcDateTime, nullable=True),
)

identity_refresh_token = Table(
    "identity_refresh_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    # Every token rotated from one sign-in shares its family; reuse revokes the family.
    Column("family", String(32), nullable=False, index=True),
    Column("account_id", Integer, ForeignKey("identity_account.id"), nullable=False, index=True),
    Column("method", String(24), nullable=False),
    # Set for an agent's session: the enterprise the agent acts for.
    Column("acting_for", Integer, nullable=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("rotated_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)
