"""Challenges for certificate sign-in: random, single use, short-lived, stored hashed.

The client asks for a challenge, signs its exact UTF-8 text with the private key of its
certificate (ECDSA with SHA-256) and sends the certificate, the challenge id, the
challenge and the signature to the token endpoint. Issuing one costs one INSERT and reads
nothing about accounts, so the route can be open to everyone and rate-limited in front
without revealing who exists. Expired rows are purged as new challenges are issued.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from smartcity.kernel.clock import Clock
from smartcity.kernel.identity.certificates.tables import certificate_challenge
from smartcity.kernel.identity.oauth import InvalidGrant
from smartcity.kernel.storage import Store

CHALLENGE_LIFETIME = timedelta(minutes=2)
# Rows stay a little after expiry so a late answer is told "expired", not "unknown".
PURGE_AFTER = timedelta(minutes=10)
CHALLENGE_PREFIX = "smartcity-login:"


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge as the client receives it (the value is never stored)."""

    id: str
    value: str
    expires_at: datetime

    def as_json(self, now: datetime) -> dict[str, object]:
        return {
            "challenge_id": self.id,
            "challenge": self.value,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
            "expires_in": max(0, int((self.expires_at - now).total_seconds())),
            "algorithm": "ECDSA-SHA256 over the UTF-8 bytes of challenge, DER signature",
        }


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def issue_challenge(
    store: Store, clock: Clock, *, lifetime: timedelta = CHALLENGE_LIFETIME
) -> Challenge:
    """A new challenge (its id and value), valid for ``lifetime``."""
    now = clock.now()
    challenge = Challenge(
        id=secrets.token_hex(16),
        value=CHALLENGE_PREFIX + secrets.token_urlsafe(32),
        expires_at=now + lifetime,
    )
    with store.begin() as conn:
        conn.execute(
            delete(certificate_challenge).where(
                certificate_challenge.c.expires_at < now - PURGE_AFTER
            )
        )
        conn.execute(
            insert(certificate_challenge).values(
                id=challenge.id,
                challenge_hash=_digest(challenge.value),
                issued_at=now,
                expires_at=challenge.expires_at,
            )
        )
    return challenge


def consume_challenge(conn: Connection, challenge_id: str, value: str, now: datetime) -> None:
    """Use up the challenge ``challenge_id`` answered with ``value``, or raise InvalidGrant.

    Call it in a transaction that commits even when the sign-in then fails: a challenge
    serves one attempt, successful or not, so a wrong signature cannot be retried on it.
    """
    row = conn.execute(
        select(
            certificate_challenge.c.challenge_hash,
            certificate_challenge.c.expires_at,
            certificate_challenge.c.used_at,
        )
        .where(certificate_challenge.c.id == challenge_id)
        .with_for_update()
    ).first()
    if row is None or not hmac.compare_digest(row.challenge_hash, _digest(value)):
        raise InvalidGrant("the challenge is unknown; ask for a new one", check="challenge")
    if row.used_at is not None:
        raise InvalidGrant("the challenge was already used; ask for a new one", check="replayed")
    if _utc(row.expires_at) <= now:
        raise InvalidGrant("the challenge has expired; ask for a new one", check="expired")
    used = conn.execute(
        update(certificate_challenge)
        .where(
            certificate_challenge.c.id == challenge_id,
            certificate_challenge.c.used_at.is_(None),
        )
        .values(used_at=now)
    ).rowcount
    if used != 1:  # another request used it between our read and our write
        raise InvalidGrant("the challenge was already used; ask for a new one", check="replayed")
