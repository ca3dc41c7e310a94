"""Password sign-in: argon2 check, optional TOTP, lockout, audit, then a session.

Five consecutive failures lock the account for fifteen minutes (by the injected clock);
the answer says when to retry. Every attempt, successful or not, is in the audit log,
never with the password or the code. An unknown sign-in name costs as much time as a
wrong password, so answers do not reveal which accounts exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Connection, select, update

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.accounts import find_account_row
from smartcity.kernel.identity.oauth import AccountLocked, InvalidGrant
from smartcity.kernel.identity.passwords import (
    burn_password_check,
    hash_password,
    needs_rehash,
    verify_password,
)
from smartcity.kernel.identity.principal import AccountKind
from smartcity.kernel.identity.sessions import TokenPair, issue_session
from smartcity.kernel.identity.tables import identity_enterprise
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.identity.totp import TotpCipher, match_totp
from smartcity.kernel.storage import Store

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
WRONG_CREDENTIALS = "wrong sign-in name or password"


def _audit_failure(
    conn: Connection, clock: Clock, username: str, account_id: int | None, reason: str
) -> None:
    audit.append(
        conn,
        clock,
        actor=f"account:{account_id}" if account_id is not None else "anonymous",
        action="identity.login_failed",
        subject=f"account:{account_id}" if account_id is not None else f"username:{username[:64]}",
        details={"reason": reason},
    )


def _locked_error(until: Any) -> AccountLocked:
    at = until.isoformat().replace("+00:00", "Z")
    return AccountLocked(
        f"the account is locked after {MAX_FAILURES} failed sign-ins; retry after {at}",
        retry_at=at,
    )


def _record_failure(store: Store, clock: Clock, row: Any, reason: str) -> AccountLocked | None:
    """Count a failure; lock the account at the limit. Returns the lock error if it locked."""
    with store.begin() as conn:
        now = clock.now()
        failures = conn.execute(
            update(identity_account)
            .where(identity_account.c.id == row.id)
            .values(failed_logins=identity_account.c.failed_logins + 1)
            .returning(identity_account.c.failed_logins)
        ).scalar_one()
        _audit_failure(conn, clock, row.username, row.id, reason)
        if failures < MAX_FAILURES:
            return None
        until = now + LOCKOUT
        conn.execute(
            update(identity_account)
            .where(identity_account.c.id == row.id)
            .values(failed_logins=0, locked_until=until)
        )
        audit.append(
            conn,
            clock,
            actor="system:identity",
            action="identity.account_locked",
            subject=f"account:{row.id}",
            details={"until": until.isoformat(), "failures": failures},
        )
        return _locked_error(until)


def _enterprise_id(conn: Connection, uscc: str) -> int:
    found = conn.execute(
        select(identity_enterprise.c.id).where(identity_enterprise.c.uscc == uscc.strip().upper())
    ).scalar()
    if found is None:
        raise InvalidGrant(f"no enterprise with USCC {uscc!r}")
    return int(found)


def sign_in_with_password(
    store: Store,
    clock: Clock,
    signer: TokenSigner,
    hasher: PasswordHasher,
    cipher: TotpCipher,
    *,
    username: str,
    password: str,
    totp_code: str | None = None,
    enterprise: str | None = None,
) -> TokenPair:
    """A session for a person who proves their password (and TOTP code when enrolled).

    ``enterprise`` (a USCC) asks for a session acting for that enterprise as its
    authorised agent. Raises InvalidGrant (wrong credentials, missing or wrong code),
    AccountLocked (with ``retry_at``).
    """
    name = username.strip() if isinstance(username, str) else ""
    if len(name) == 18:
        name = name.upper()  # national IDs and USCCs are stored in capitals
    with store.connect() as conn:
        row = find_account_row(conn, username=name)
    if row is None or row.kind == AccountKind.MACHINE.value:
        burn_password_check(hasher, password)
        audit.record(
            store,
            clock,
            actor="anonymous",
            action="identity.login_failed",
            subject=f"username:{name[:64] or '-'}",
            details={"reason": "unknown account"},
        )
        raise InvalidGrant(WRONG_CREDENTIALS)
    now = clock.now()
    if row.locked_until is not None and row.locked_until > now:
        audit.record(
            store,
            clock,
            actor=f"account:{row.id}",
            action="identity.login_failed",
            subject=f"account:{row.id}",
            details={"reason": "locked"},
        )
        raise _locked_error(row.locked_until)
    if not verify_password(hasher, row.secret_hash, password):
        raise _record_failure(store, clock, row, "wrong password") or InvalidGrant(
            WRONG_CREDENTIALS
        )
    step: int | None = None
    if row.totp_enabled:
        if not totp_code:
            # Not a failure: the person knows the password and is asked for the code.
            raise InvalidGrant(
                "this account needs a TOTP code: send it as 'totp'", totp_required=True
            )
        secret = cipher.decrypt(row.totp_secret, account_id=row.id)
        step = match_totp(secret, totp_code, now, last_step=row.totp_last_step)
        if step is None:
            raise _record_failure(store, clock, row, "wrong TOTP code") or InvalidGrant(
                "the TOTP code is wrong or was already used"
            )
    new_hash = hash_password(hasher, password) if needs_rehash(hasher, row.secret_hash) else None
    method = "totp" if step is not None else "password"
    with store.begin() as conn:
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
        if step is not None:
            values["totp_last_step"] = step
        if new_hash is not None:
            values["secret_hash"] = new_hash
        conn.execute(
            update(identity_account).where(identity_account.c.id == row.id).values(**values)
        )
        acting_for = _enterprise_id(conn, enterprise) if enterprise else None
        try:
            pair = issue_session(conn, signer, row.id, method, now, acting_for=acting_for)
        except PermissionDenied as denied:
            raise InvalidGrant(denied.reason) from None
        details: dict[str, Any] = {"method": method}
        if acting_for is not None:
            details["acting_for"] = pair.principal.subject
        if new_hash is not None:
            details["rehashed"] = True
        audit.append(
            conn,
            clock,
            actor=f"account:{row.id}",
            action="identity.login_succeeded",
            subject=f"account:{row.id}",
            details=details,
        )
    return pair
