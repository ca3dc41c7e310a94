"""The TOTP second factor: enrol (a new secret), confirm (with a code), required from then on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.permissions import actor_of
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.totp import (
    TotpCipher,
    encode_base32,
    match_totp,
    new_totp_secret,
    provisioning_uri,
)
from smartcity.kernel.storage import Store


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """What the person types or scans into an authenticator app."""

    secret: str  # base32
    uri: str  # otpauth://totp/...


def enrol_totp(
    store: Store, clock: Clock, cipher: TotpCipher, *, principal: Principal
) -> TotpEnrolment:
    """Start enrolment with a fresh secret; replaces an unconfirmed one.

    Conflict when a confirmed second factor is already on: turning it off or replacing it
    is a recovery procedure, not a self-service call.
    """
    secret = new_totp_secret()
    with store.begin() as conn:
        row = conn.execute(
            select(
                identity_account.c.username,
                identity_account.c.kind,
                identity_account.c.totp_enabled,
            ).where(identity_account.c.id == principal.account_id)
        ).first()
        if row is None or row.kind == AccountKind.MACHINE.value:
            raise NotFound("this account cannot have a second factor", part="account")
        if row.totp_enabled:
            raise Conflict("a TOTP second factor is already on for this account", part="totp")
        conn.execute(
            update(identity_account)
            .where(identity_account.c.id == principal.account_id)
            .values(
                totp_secret=cipher.encrypt(secret, account_id=principal.account_id),
                totp_last_step=None,
            )
        )
    return TotpEnrolment(
        secret=encode_base32(secret), uri=provisioning_uri(secret, account=row.username)
    )


def confirm_totp(
    store: Store, clock: Clock, cipher: TotpCipher, *, principal: Principal, code: str
) -> None:
    """Turn the second factor on once the person shows a code from the enrolled secret."""
    with store.begin() as conn:
        now = clock.now()
        row = conn.execute(
            select(identity_account).where(identity_account.c.id == principal.account_id)
        ).first()
        if row is None or row.totp_secret is None:
            raise Conflict("enrol first: POST /auth/totp/enrol", part="totp")
        if row.totp_enabled:
            raise Conflict("the TOTP second factor is already on", part="totp")
        secret = cipher.decrypt(row.totp_secret, account_id=row.id)
        step = match_totp(secret, code, now)
        if step is None:
            raise InvalidInput("the TOTP code is wrong; check the device's clock", part="code")
        conn.execute(
            update(identity_account)
            .where(identity_account.c.id == row.id)
            .values(totp_enabled=True, totp_last_step=step)
        )
        audit.append(
            conn,
            clock,
            actor=actor_of(principal),
            action="identity.totp_enabled",
            subject=f"account:{row.id}",
        )
