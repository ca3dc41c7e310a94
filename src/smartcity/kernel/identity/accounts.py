"""Accounts: registration after a real-name check, and what an account is allowed to be.

* A **citizen** registers with a national ID and a name; the ID must pass GB 11643, belong
  to a person in the population registry, and the name must match that person.
* An **enterprise** account is the legal person (its USCC), registered by its legal
  representative while signed in with their own citizen account.
* A **staff** account is created by a department administrator for a staff member of the
  registry; roles and department come from the registry at every sign-in.
* **Machine** clients are in :mod:`.clients`.

Passwords are hashed before the transaction opens: argon2 takes tens of milliseconds and
must not hold SQLite's write lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from smartcity.kernel.identity.account_tables import (
    identity_account,
    identity_enterprise_agent,
    identity_refresh_token,
)
from smartcity.kernel.identity.citizen_id import parse_citizen_id
from smartcity.kernel.identity.passwords import (
    check_password_policy,
    hash_password,
    verify_password,
)
from smartcity.kernel.identity.permissions import AGENT_ROLE, actor_of, check_department
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.roles import Role, format_roles, normalise_roles, parse_roles
from smartcity.kernel.identity.tables import identity_citizen, identity_enterprise, identity_staff
from smartcity.kernel.identity.uscc import parse_uscc
from smartcity.kernel.storage import Store


@dataclass(frozen=True, slots=True)
class Account:
    """An account as its owner sees it (no secrets)."""

    id: int
    kind: AccountKind
    username: str
    display_name: str
    department_code: str | None
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    totp_enabled: bool
    created_at: datetime


def _account_columns() -> list[Any]:
    return [
        identity_account,
        identity_staff.c.roles.label("staff_roles"),
        identity_staff.c.department_code.label("staff_department"),
    ]


def _select_account() -> Any:
    return select(*_account_columns()).select_from(
        identity_account.outerjoin(
            identity_staff, identity_staff.c.id == identity_account.c.staff_id
        )
    )


def _account(row: Any) -> Account:
    kind = AccountKind(row.kind)
    roles: tuple[str, ...] = ()
    department = row.department_code
    if kind is AccountKind.STAFF and row.staff_roles is not None:
        roles = tuple(role.value for role in parse_roles(row.staff_roles))
        department = row.staff_department
    return Account(
        id=row.id,
        kind=kind,
        username=row.username,
        display_name=row.display_name,
        department_code=department,
        roles=roles,
        scopes=tuple(row.scopes.split()) if row.scopes else (),
        totp_enabled=bool(row.totp_enabled),
        created_at=row.created_at,
    )


def find_account_row(
    conn: Connection, *, username: str | None = None, account_id: int | None = None
) -> Any:
    """The account row (with staff roles and department joined), or None."""
    query = _select_account()
    if username is not None:
        query = query.where(identity_account.c.username == username)
    if account_id is not None:
        query = query.where(identity_account.c.id == account_id)
    return conn.execute(query).first()


def get_account(conn: Connection, account_id: int) -> Account:
    """The account with this id; NotFound otherwise."""
    row = find_account_row(conn, account_id=account_id)
    if row is None:
        raise NotFound(f"no account {account_id}", part="account")
    return _account(row)


def principal_for(
    conn: Connection, account_id: int, method: str, *, acting_for: int | None = None
) -> Principal:
    """The principal a new session of ``account_id`` carries, read fresh from the registry.

    ``acting_for`` names an enterprise the (citizen) account acts for as an authorised
    agent; the grant must still be in force.
    """
    row = find_account_row(conn, account_id=account_id)
    if row is None:
        raise NotFound(f"no account {account_id}", part="account")
    account = _account(row)
    if acting_for is not None:
        uscc = conn.execute(
            select(identity_enterprise.c.uscc)
            .select_from(
                identity_enterprise_agent.join(
                    identity_enterprise,
                    identity_enterprise.c.id == identity_enterprise_agent.c.enterprise_id,
                )
            )
            .where(
                identity_enterprise_agent.c.enterprise_id == acting_for,
                identity_enterprise_agent.c.agent_account_id == account_id,
                identity_enterprise_agent.c.withdrawn_at.is_(None),
            )
        ).scalar()
        if uscc is None:
            raise PermissionDenied(
                "this account is not an authorised agent of that enterprise", part="enterprise"
            )
        return Principal(
            account_id=account.id,
            kind=AccountKind.ENTERPRISE,
            subject=uscc,
            roles=frozenset({AGENT_ROLE}),
            method=method,
        )
    return Principal(
        account_id=account.id,
        kind=account.kind,
        subject=account.username,
        department_code=account.department_code,
        roles=frozenset(account.roles),
        scopes=frozenset(account.scopes),
        method=method,
    )


def open_account(conn: Connection, now: datetime, **values: Any) -> int:
    """Insert an account row inside ``conn`` (columns of ``identity_account`` as keywords).

    The low-level step of every registration, for callers that already did the checks and
    hashed the secret (seeding). Conflict when the username is taken.
    """
    duplicate = Conflict(f"an account for {values['username']} already exists", part="username")
    found = conn.execute(
        select(identity_account.c.id).where(identity_account.c.username == values["username"])
    ).first()
    if found is not None:
        raise duplicate
    return int(
        conn.execute(
            identity_account.insert()
            .values(totp_enabled=False, failed_logins=0, created_at=now, **values)
            .returning(identity_account.c.id)
        ).scalar_one()
    )


@contextmanager
def _refusing_duplicates(username: str) -> Iterator[None]:
    # Another writer opened the same account between our check and our insert.
    try:
        yield
    except IntegrityError:
        raise Conflict(f"an account for {username} already exists", part="username") from None


def register_citizen_account(
    store: Store,
    clock: Clock,
    hasher: PasswordHasher,
    *,
    national_id: str,
    name: str,
    password: str,
) -> Account:
    """Open a citizen account after the real-name check (ID valid, registered, name matches)."""
    now = clock.now()
    parsed = parse_citizen_id(national_id, today=now.date())
    clean_name = name.strip() if isinstance(name, str) else ""
    if not clean_name:
        raise InvalidInput("name must not be empty", part="name")
    check_password_policy(password, username=parsed.text)
    with store.connect() as conn:
        person = conn.execute(
            select(identity_citizen.c.id, identity_citizen.c.name).where(
                identity_citizen.c.national_id == parsed.text
            )
        ).first()
    if person is None:
        raise NotFound(
            f"citizen ID {parsed.text} is not in the population registry", part="national id"
        )
    if person.name != clean_name:
        raise InvalidInput(
            "the name does not match the population registry for this citizen ID", part="name"
        )
    secret_hash = hash_password(hasher, password)
    with _refusing_duplicates(parsed.text), store.begin() as conn:
        account_id = open_account(
            conn,
            now,
            kind=AccountKind.CITIZEN.value,
            username=parsed.text,
            display_name=clean_name,
            citizen_id=person.id,
            secret_hash=secret_hash,
            created_by="self",
        )
        audit.append(
            conn,
            clock,
            actor=f"account:{account_id}",
            action="identity.account_registered",
            subject=f"account:{account_id}",
            details={"kind": "citizen"},
        )
        return get_account(conn, account_id)


def register_enterprise_account(
    store: Store,
    clock: Clock,
    hasher: PasswordHasher,
    *,
    representative: Principal,
    uscc: str,
    password: str,
) -> Account:
    """Open the account of a legal person, on behalf of its legal representative.

    ``representative`` is the signed-in citizen; their national ID must be the one the
    enterprise registry names as legal representative.
    """
    parsed = parse_uscc(uscc)
    check_password_policy(password, username=parsed.text)
    with store.connect() as conn:
        enterprise = conn.execute(
            select(identity_enterprise).where(identity_enterprise.c.uscc == parsed.text)
        ).first()
    if enterprise is None:
        raise NotFound(f"USCC {parsed.text} is not in the enterprise registry", part="uscc")
    if representative.kind is not AccountKind.CITIZEN or (
        representative.subject != enterprise.legal_representative
    ):
        raise PermissionDenied(
            "only the enterprise's legal representative may register its account", part="uscc"
        )
    secret_hash = hash_password(hasher, password)
    with _refusing_duplicates(parsed.text), store.begin() as conn:
        account_id = open_account(
            conn,
            clock.now(),
            kind=AccountKind.ENTERPRISE.value,
            username=parsed.text,
            display_name=enterprise.name,
            enterprise_id=enterprise.id,
            secret_hash=secret_hash,
            created_by=actor_of(representative),
        )
        audit.append(
            conn,
            clock,
            actor=actor_of(representative),
            action="identity.account_registered",
            subject=f"account:{account_id}",
            details={"kind": "enterprise", "uscc": parsed.text},
        )
        return get_account(conn, account_id)


def add_staff_account(
    store: Store,
    clock: Clock,
    hasher: PasswordHasher,
    *,
    administrator: Principal,
    employee_number: str,
    password: str,
) -> Account:
    """Open an account for a registry staff member, by an administrator of their department."""
    with store.connect() as conn:
        staff = conn.execute(
            select(identity_staff).where(identity_staff.c.employee_number == employee_number)
        ).first()
    if staff is None:
        raise NotFound(
            f"no staff member with employee number {employee_number!r}", part="employee number"
        )
    check_department(administrator, staff.department_code)
    check_password_policy(password, username=employee_number)
    secret_hash = hash_password(hasher, password)
    with _refusing_duplicates(employee_number), store.begin() as conn:
        account_id = open_account(
            conn,
            clock.now(),
            kind=AccountKind.STAFF.value,
            username=employee_number,
            display_name=staff.name,
            staff_id=staff.id,
            department_code=staff.department_code,
            secret_hash=secret_hash,
            created_by=actor_of(administrator),
        )
        audit.append(
            conn,
            clock,
            actor=actor_of(administrator),
            action="identity.staff_account_created",
            subject=f"account:{account_id}",
            details={
                "employee_number": employee_number,
                "department": staff.department_code,
                "roles": [role.value for role in parse_roles(staff.roles)],
            },
        )
        return get_account(conn, account_id)


def revoke_account_sessions(conn: Connection, account_id: int, now: datetime) -> int:
    """Revoke every live refresh token of an account (sign out everywhere)."""
    result = conn.execute(
        update(identity_refresh_token)
        .where(
            identity_refresh_token.c.account_id == account_id,
            identity_refresh_token.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)


def change_password(
    store: Store,
    clock: Clock,
    hasher: PasswordHasher,
    *,
    principal: Principal,
    current_password: str,
    new_password: str,
) -> None:
    """Replace the password after checking the current one; signs out every other session."""
    with store.connect() as conn:
        row = find_account_row(conn, account_id=principal.account_id)
    if row is None or row.kind == AccountKind.MACHINE.value:
        raise NotFound("this account has no password", part="account")
    if not verify_password(hasher, row.secret_hash, current_password):
        raise PermissionDenied("the current password is wrong", part="current password")
    check_password_policy(new_password, username=row.username)
    if new_password == current_password:
        raise InvalidInput("the new password must differ from the current one", part="password")
    secret_hash = hash_password(hasher, new_password)
    with store.begin() as conn:
        now = clock.now()
        conn.execute(
            update(identity_account)
            .where(identity_account.c.id == row.id)
            .values(secret_hash=secret_hash, failed_logins=0, locked_until=None)
        )
        revoked = revoke_account_sessions(conn, row.id, now)
        audit.append(
            conn,
            clock,
            actor=actor_of(principal),
            action="identity.password_changed",
            subject=f"account:{row.id}",
            details={"sessions_revoked": revoked},
        )


def change_staff_roles(
    store: Store,
    clock: Clock,
    *,
    administrator: Principal,
    employee_number: str,
    roles: Iterable[str],
) -> tuple[str, ...]:
    """Set a staff member's roles, by an administrator of their department (audited).

    The change reaches the staff member's tokens at their next refresh (within 15
    minutes), when the principal is rebuilt from the registry. An administrator may not
    take the administrator role from themselves, so a department is never left without
    one by accident.
    """
    clean = normalise_roles(roles)
    with store.begin() as conn:
        staff = conn.execute(
            select(identity_staff).where(identity_staff.c.employee_number == employee_number)
        ).first()
        if staff is None:
            raise NotFound(
                f"no staff member with employee number {employee_number!r}",
                part="employee number",
            )
        check_department(administrator, staff.department_code)
        if administrator.subject == employee_number and Role.ADMINISTRATOR not in clean:
            raise Conflict(
                "administrators may not remove their own administrator role", part="roles"
            )
        before = [role.value for role in parse_roles(staff.roles)]
        conn.execute(
            update(identity_staff)
            .where(identity_staff.c.id == staff.id)
            .values(roles=format_roles(clean))
        )
        audit.append(
            conn,
            clock,
            actor=actor_of(administrator),
            action="identity.roles_changed",
            subject=f"staff:{employee_number}",
            details={
                "before": before,
                "after": [role.value for role in clean],
                "department": staff.department_code,
            },
        )
    return tuple(role.value for role in clean)
