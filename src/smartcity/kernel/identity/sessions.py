"""Sessions: an access token plus a refresh token, and how refresh tokens rotate.

A refresh token is 256 random bits, stored as its SHA-256 digest. Each use rotates it: the
presented token is marked rotated and a new one of the same *family* is issued. Presenting
a rotated token again means two parties hold it (one of them a thief), so the whole
family is revoked and both must sign in again (OAuth 2.0 Security BCP, section 4.14).

:func:`issue_session` is the one place sessions begin; every sign-in method (password,
client credentials, certificates) calls it inside its own transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.account_tables import identity_refresh_token
from smartcity.kernel.identity.accounts import principal_for
from smartcity.kernel.identity.oauth import InvalidGrant
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.storage import Store

REFRESH_TOKEN_LIFETIME = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What the token endpoint answers (RFC 6749 section 5.1)."""

    access_token: str
    expires_in: int
    refresh_token: str | None
    scope: str
    principal: Principal
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 scheme name


def digest_token(token: str) -> str:
    """How a refresh token (or client secret) is stored: hex SHA-256."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue_session(
    conn: Connection,
    signer: TokenSigner,
    account_id: int,
    method: str,
    now: datetime,
    *,
    acting_for: int | None = None,
    family: str | None = None,
    refresh: bool = True,
) -> TokenPair:
    """Begin (or continue, with ``family``) a session of ``account_id`` inside ``conn``.

    The principal is read fresh from the registry (staff roles may have changed).
    ``method`` says how the caller proved who they are (``password``, ``totp``,
    ``certificate``, ...). Machine clients get no refresh token (``refresh=False``): they
    hold their secret and simply ask again.
    """
    principal = principal_for(conn, account_id, method, acting_for=acting_for)
    access = signer.issue(principal, now)
    refresh_token: str | None = None
    if refresh:
        refresh_token = secrets.token_urlsafe(32)
        conn.execute(
            identity_refresh_token.insert().values(
                token_hash=digest_token(refresh_token),
                family=family or secrets.token_hex(16),
                account_id=account_id,
                method=method,
                acting_for=acting_for,
                issued_at=now,
                expires_at=now + REFRESH_TOKEN_LIFETIME,
            )
        )
    scope = " ".join(sorted(principal.scopes))
    return TokenPair(
        access_token=access.token,
        expires_in=access.expires_in,
        refresh_token=refresh_token,
        scope=scope,
        principal=principal,
    )


def _revoke_family(conn: Connection, family: str, now: datetime) -> None:
    conn.execute(
        update(identity_refresh_token)
        .where(
            identity_refresh_token.c.family == family,
            identity_refresh_token.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


def refresh_session(
    store: Store, clock: Clock, signer: TokenSigner, refresh_token: str
) -> TokenPair:
    """A new token pair for a valid refresh token, which is rotated (used up).

    Raises InvalidGrant for an unknown, expired or revoked token, and for a reused one,
    after revoking its whole family.
    """
    if not isinstance(refresh_token, str) or not refresh_token:
        raise InvalidGrant("refresh_token is missing")
    with store.begin() as conn:
        now = clock.now()
        row = conn.execute(
            select(identity_refresh_token).where(
                identity_refresh_token.c.token_hash == digest_token(refresh_token)
            )
        ).first()
        if row is None:
            raise InvalidGrant("the refresh token is unknown")
        if row.revoked_at is not None:
            raise InvalidGrant("the refresh token was revoked; sign in again")
        if row.rotated_at is not None:
            _revoke_family(conn, row.family, now)
            audit.append(
                conn,
                clock,
                actor=f"account:{row.account_id}",
                action="identity.refresh_token_reused",
                subject=f"account:{row.account_id}",
                details={"family_revoked": True},
            )
        elif row.expires_at <= now:
            raise InvalidGrant("the refresh token has expired; sign in again")
        else:
            conn.execute(
                update(identity_refresh_token)
                .where(identity_refresh_token.c.id == row.id)
                .values(rotated_at=now)
            )
            try:
                return issue_session(
                    conn,
                    signer,
                    row.account_id,
                    row.method,
                    now,
                    acting_for=row.acting_for,
                    family=row.family,
                )
            except PermissionDenied as denied:
                raise InvalidGrant(denied.reason) from None
    # Only a reused token gets here, outside the transaction so its revocation commits.
    raise InvalidGrant(
        "the refresh token was already used; every session from that sign-in is revoked"
    )


def revoke_refresh_token(store: Store, clock: Clock, token: str) -> bool:
    """Revoke the family of ``token`` (RFC 7009). False when the token is unknown."""
    with store.begin() as conn:
        row = conn.execute(
            select(identity_refresh_token.c.family, identity_refresh_token.c.account_id).where(
                identity_refresh_token.c.token_hash == digest_token(token)
            )
        ).first()
        if row is None:
            return False
        _revoke_family(conn, row.family, clock.now())
        return True
