"""Certificate sign-in: the holder of a valid platform certificate signs a challenge.

The token endpoint's ``urn:smartcity:params:oauth:grant-type:certificate`` grant. In
order: the challenge is used up (its own transaction, so a failed attempt cannot be
retried on it), the signature over the challenge is checked with the certificate's key,
the certificate must chain to our issuing CA, be on record, within its dates and not
revoked, and its holder (citizen national ID or enterprise USCC) must have a platform
account. Then :func:`issue_session` with method ``certificate``. Every attempt is in the
audit log; every refusal is an RFC 6749 ``invalid_grant`` saying why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import DomainError, PermissionDenied
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    CertificateRejected,
    Holder,
    load_certificate,
    serial_text,
    verify_challenge_signature,
)
from smartcity.kernel.identity.challenges import consume_challenge
from smartcity.kernel.identity.oauth import AccountLocked, InvalidGrant
from smartcity.kernel.identity.sessions import TokenPair, issue_session
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.storage import Store

CERTIFICATE_GRANT = "urn:smartcity:params:oauth:grant-type:certificate"
METHOD = "certificate"


def account_of_holder(conn: Connection, holder: Holder) -> Any:
    """The platform account of a certificate holder (same kind, username = ID), or None."""
    return conn.execute(
        select(identity_account.c.id, identity_account.c.locked_until).where(
            identity_account.c.username == holder.identifier.upper(),
            identity_account.c.kind == holder.kind.value,
        )
    ).first()


def _serial_of(certificate_data: bytes) -> str | None:
    try:
        return serial_text(load_certificate(certificate_data).serial_number)
    except (DomainError, ValueError):
        return None


def _refuse(
    store: Store,
    clock: Clock,
    reason: str,
    *,
    check: str,
    serial: str | None,
    account_id: int | None = None,
) -> None:
    details: dict[str, Any] = {"method": METHOD, "reason": reason, "check": check}
    if serial is not None:
        details["serial"] = serial
    audit.record(
        store,
        clock,
        actor=f"account:{account_id}" if account_id is not None else "anonymous",
        action="identity.login_failed",
        subject=(
            f"account:{account_id}"
            if account_id is not None
            else f"certificate:{serial or 'unreadable'}"
        ),
        details=details,
    )


def sign_in_with_certificate(
    store: Store,
    clock: Clock,
    signer: TokenSigner,
    authority: CertificateAuthority,
    *,
    certificate_data: bytes,
    challenge_id: str,
    challenge: str,
    signature: bytes,
) -> TokenPair:
    """A session for the holder of ``certificate_data`` who signed ``challenge``.

    Raises InvalidGrant (with a ``check`` detail: ``replayed``, ``expired``, ``revoked``,
    ``forged``, ``no-account``, ...) or AccountLocked.
    """
    serial = _serial_of(certificate_data)
    now = clock.now()
    try:
        with store.begin() as conn:
            consume_challenge(conn, challenge_id, challenge, now)
    except InvalidGrant as refused:
        _refuse(store, clock, refused.reason, check=str(refused.details["check"]), serial=serial)
        raise
    try:
        with store.connect() as conn:
            holder = verify_challenge_signature(
                conn,
                authority,
                certificate_data,
                challenge.encode("utf-8"),
                signature,
                now=now,
            )
            account = account_of_holder(conn, holder)
    except CertificateRejected as rejected:
        _refuse(store, clock, rejected.reason, check=rejected.check.value, serial=serial)
        raise InvalidGrant(rejected.reason, check=rejected.check.value) from None
    except DomainError as invalid:  # e.g. a subject naming no citizen ID or USCC
        _refuse(store, clock, invalid.reason, check="malformed", serial=serial)
        raise InvalidGrant(invalid.reason, check="malformed") from None
    if account is None:
        reason = f"no platform account for {holder.kind.value} {holder.identifier}: register first"
        _refuse(store, clock, reason, check="no-account", serial=serial)
        raise InvalidGrant(reason, check="no-account")
    if account.locked_until is not None and account.locked_until > now:
        at = account.locked_until.isoformat().replace("+00:00", "Z")
        reason = f"the account is locked; retry after {at}"
        _refuse(store, clock, reason, check="locked", serial=serial, account_id=account.id)
        raise AccountLocked(reason, retry_at=at)
    with store.begin() as conn:
        try:
            pair = issue_session(conn, signer, account.id, METHOD, now)
        except PermissionDenied as denied:
            raise InvalidGrant(denied.reason, check="denied") from None
        audit.append(
            conn,
            clock,
            actor=f"account:{account.id}",
            action="identity.login_succeeded",
            subject=f"account:{account.id}",
            details={"method": METHOD, "serial": serial},
        )
    return pair
