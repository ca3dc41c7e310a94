"""Machine clients: devices and department systems that sign in with a client id and secret.

An administrator creates a client with a set of scopes (permission names the catalogue
lets machines hold) in their department. The secret is shown once, in the answer to the
creation, and stored as a SHA-256 digest: it is 256 random bits, so no dictionary exists
to make a slow hash worth its cost on every token request. Clients use the OAuth 2.0
``client_credentials`` grant and get access tokens only (no refresh tokens).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.accounts import Account, get_account
from smartcity.kernel.identity.oauth import InvalidClient, InvalidScope
from smartcity.kernel.identity.permissions import (
    CATALOGUE,
    actor_of,
    check_department,
)
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.sessions import TokenPair, digest_token, issue_session
from smartcity.kernel.identity.tables import identity_department
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.storage import Store


@dataclass(frozen=True, slots=True)
class NewClient:
    """A client just created; ``client_secret`` is never shown again."""

    account: Account
    client_id: str
    client_secret: str


def machine_scopes() -> list[str]:
    """The permission names a machine client may be granted."""
    return sorted(p.value for p, grant in CATALOGUE.items() if grant.machines)


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    allowed = set(machine_scopes())
    found = sorted({s.strip() for s in scopes if s.strip()})
    if not found:
        raise InvalidInput("a client needs at least one scope", part="scopes")
    unknown = [s for s in found if s not in allowed]
    if unknown:
        raise InvalidInput(
            f"scopes {', '.join(unknown)} cannot be granted to machines "
            f"(grantable: {', '.join(sorted(allowed))})",
            part="scopes",
        )
    return found


def add_client(
    store: Store,
    clock: Clock,
    *,
    administrator: Principal,
    name: str,
    scopes: Iterable[str],
    department_code: str | None = None,
) -> NewClient:
    """Create a machine client in the administrator's department (or, city-wide, any)."""
    clean_name = name.strip() if isinstance(name, str) else ""
    if not clean_name or len(clean_name) > 100:
        raise InvalidInput("the client needs a name of 1 to 100 characters", part="name")
    clean_scopes = _clean_scopes(scopes)
    department = department_code or administrator.department_code
    if department is None:
        raise InvalidInput("name the client's department", part="department")
    check_department(administrator, department)
    client_id = "client-" + secrets.token_hex(8)
    client_secret = secrets.token_urlsafe(32)
    with store.begin() as conn:
        known = conn.execute(
            select(identity_department.c.code).where(identity_department.c.code == department)
        ).first()
        if known is None:
            raise InvalidInput(f"no department {department!r}", part="department")
        account_id = conn.execute(
            identity_account.insert()
            .values(
                kind=AccountKind.MACHINE.value,
                username=client_id,
                display_name=clean_name,
                department_code=department,
                scopes=" ".join(clean_scopes),
                secret_hash=digest_token(client_secret),
                totp_enabled=False,
                failed_logins=0,
                created_at=clock.now(),
                created_by=actor_of(administrator),
            )
            .returning(identity_account.c.id)
        ).scalar_one()
        audit.append(
            conn,
            clock,
            actor=actor_of(administrator),
            action="identity.client_created",
            subject=f"account:{account_id}",
            details={"client_id": client_id, "scopes": clean_scopes, "department": department},
        )
        account = get_account(conn, account_id)
    return NewClient(account=account, client_id=client_id, client_secret=client_secret)


def sign_in_client(
    store: Store,
    clock: Clock,
    signer: TokenSigner,
    *,
    client_id: str,
    client_secret: str,
    scope: str | None = None,
) -> TokenPair:
    """An access token for a machine client (``client_credentials`` grant).

    ``scope`` may narrow the token to some of the client's scopes; asking for more is
    InvalidScope. A wrong id or secret is InvalidClient (401).
    """
    with store.begin() as conn:
        now = clock.now()
        row = conn.execute(
            select(identity_account).where(
                identity_account.c.username == client_id,
                identity_account.c.kind == AccountKind.MACHINE.value,
            )
        ).first()
        given = digest_token(client_secret or "")
        if row is None or not hmac.compare_digest(given, row.secret_hash):
            audit.append(
                conn,
                clock,
                actor="anonymous",
                action="identity.login_failed",
                subject=f"account:{row.id}" if row is not None else f"client:{client_id[:64]}",
                details={"reason": "wrong client credentials"},
            )
            failed = True
            pair = None
        else:
            failed = False
            granted = set(row.scopes.split()) if row.scopes else set()
            wanted = set(scope.split()) if scope else granted
            if not wanted <= granted:
                raise InvalidScope(f"this client may ask only for: {' '.join(sorted(granted))}")
            pair = issue_session(conn, signer, row.id, "client_credentials", now, refresh=False)
            if wanted != granted:
                narrowed = replace(pair.principal, scopes=frozenset(wanted))
                access = signer.issue(narrowed, now)
                pair = TokenPair(
                    access_token=access.token,
                    expires_in=access.expires_in,
                    refresh_token=None,
                    scope=" ".join(sorted(wanted)),
                    principal=narrowed,
                )
            audit.append(
                conn,
                clock,
                actor=f"account:{row.id}",
                action="identity.login_succeeded",
                subject=f"account:{row.id}",
                details={"method": "client_credentials", "scope": pair.scope},
            )
    if failed or pair is None:
        raise InvalidClient("unknown client or wrong client secret")
    return pair
