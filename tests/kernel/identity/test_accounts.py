"""Accounts, password sign-in, lockout, sessions and refresh rotation, on the test backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from smartcity.kernel import audit
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.accounts import (
    add_staff_account,
    register_citizen_account,
    register_enterprise_account,
)
from smartcity.kernel.identity.oauth import AccountLocked, InvalidGrant
from smartcity.kernel.identity.passwords import WeakPassword
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.sessions import issue_session, refresh_session
from smartcity.kernel.identity.signin import LOCKOUT, MAX_FAILURES, sign_in_with_password
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.identity.totp import TotpCipher
from smartcity.kernel.storage import Store
from tests.kernel.identity.people import FAST_HASHER, PASSWORD, People, seed_people

SIGNER = TokenSigner(b"s" * 32)
CIPHER = TotpCipher(b"t" * 32)


@pytest.fixture
def people(store: Store) -> People:
    return seed_people(store)


def _sign_in(store: Store, clock: FixedClock, username: str, password: str = PASSWORD) -> object:
    return sign_in_with_password(
        store, clock, SIGNER, FAST_HASHER, CIPHER, username=username, password=password
    )


def _audit(store: Store, subject: str) -> list[audit.AuditEntry]:
    with store.connect() as conn:
        return list(reversed(audit.history(conn, subject)))


def _citizen(store: Store, clock: FixedClock, people: People) -> int:
    return register_citizen_account(
        store,
        clock,
        FAST_HASHER,
        national_id=people.representative_id,
        name=people.representative_name,
        password=PASSWORD,
    ).id


def test_citizen_registration_is_a_real_name_check(
    store: Store, clock: FixedClock, people: People
) -> None:
    register = register_citizen_account
    bad_checksum = people.representative_id[:-1] + (
        "0" if people.representative_id[-1] != "0" else "1"
    )
    with pytest.raises(InvalidInput, match="check"):
        register(
            store, clock, FAST_HASHER, national_id=bad_checksum, name="陈大文", password=PASSWORD
        )
    unknown = "11010519491231002X"
    with pytest.raises(NotFound, match="population registry"):
        register(store, clock, FAST_HASHER, national_id=unknown, name="陈大文", password=PASSWORD)
    with pytest.raises(InvalidInput, match="name does not match"):
        register(
            store,
            clock,
            FAST_HASHER,
            national_id=people.representative_id,
            name="陈小文",
            password=PASSWORD,
        )
    with pytest.raises(WeakPassword):
        register(
            store,
            clock,
            FAST_HASHER,
            national_id=people.representative_id,
            name="陈大文",
            password="short",
        )
    account = register(
        store,
        clock,
        FAST_HASHER,
        national_id=people.representative_id,
        name="陈大文",
        password=PASSWORD,
    )
    assert account.kind is AccountKind.CITIZEN and account.username == people.representative_id
    with pytest.raises(Conflict, match="already exists"):
        register(
            store,
            clock,
            FAST_HASHER,
            national_id=people.representative_id,
            name="陈大文",
            password=PASSWORD,
        )


def test_only_the_legal_representative_registers_the_enterprise(
    store: Store, clock: FixedClock, people: People
) -> None:
    representative = Principal(1, AccountKind.CITIZEN, people.representative_id)
    stranger = Principal(2, AccountKind.CITIZEN, people.agent_id)
    with pytest.raises(PermissionDenied, match="legal representative"):
        register_enterprise_account(
            store, clock, FAST_HASHER, representative=stranger, uscc=people.uscc, password=PASSWORD
        )
    account = register_enterprise_account(
        store,
        clock,
        FAST_HASHER,
        representative=representative,
        uscc=people.uscc,
        password=PASSWORD,
    )
    assert account.kind is AccountKind.ENTERPRISE and account.username == people.uscc


def test_staff_accounts_are_department_scoped(
    store: Store, clock: FixedClock, people: People
) -> None:
    police_admin = Principal(
        1, AccountKind.STAFF, "GZ-GAJ-0001", "GZ-GAJ", frozenset({"administrator"})
    )
    city_admin = Principal(
        2, AccountKind.STAFF, "GZ-BGT-0001", "GZ-BGT", frozenset({"administrator"})
    )
    with pytest.raises(PermissionDenied, match="may not act in department GZ-GHZYJ"):
        add_staff_account(
            store,
            clock,
            FAST_HASHER,
            administrator=police_admin,
            employee_number=people.planning_officer,
            password=PASSWORD,
        )
    officer = add_staff_account(
        store,
        clock,
        FAST_HASHER,
        administrator=police_admin,
        employee_number=people.police_officer,
        password=PASSWORD,
    )
    assert officer.roles == ("officer",) and officer.department_code == "GZ-GAJ"
    planner = add_staff_account(
        store,
        clock,
        FAST_HASHER,
        administrator=city_admin,
        employee_number=people.planning_officer,
        password=PASSWORD,
    )
    assert planner.department_code == "GZ-GHZYJ"
    pair = _sign_in(store, clock, people.police_officer)
    principal = SIGNER.verify(pair.access_token, clock.now())  # type: ignore[attr-defined]
    assert principal.roles == {"officer"} and principal.department_code == "GZ-GAJ"


def test_wrong_passwords_lock_the_account_for_fifteen_minutes(
    store: Store, clock: FixedClock, people: People
) -> None:
    account_id = _citizen(store, clock, people)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(InvalidGrant, match="wrong sign-in name or password"):
            _sign_in(store, clock, people.representative_id, "wrong password")
    with pytest.raises(AccountLocked) as locked:
        _sign_in(store, clock, people.representative_id, "wrong password")
    retry_at = locked.value.details["retry_at"]
    assert retry_at == (clock.now() + LOCKOUT).isoformat().replace("+00:00", "Z")
    # Even the right password is refused while locked.
    clock.advance(LOCKOUT - timedelta(seconds=1))
    with pytest.raises(AccountLocked):
        _sign_in(store, clock, people.representative_id)
    clock.advance(timedelta(seconds=1))
    _sign_in(store, clock, people.representative_id)
    logged = _audit(store, f"account:{account_id}")
    entries = [e.action for e in logged]
    assert entries.count("identity.login_failed") == MAX_FAILURES + 1
    assert "identity.account_locked" in entries
    assert entries[-1] == "identity.login_succeeded"
    # Reasons are logged, secrets never.
    assert {e.details.get("reason") for e in logged} >= {"wrong password", "locked"}
    assert PASSWORD not in str([e.details for e in logged])


def test_unknown_names_and_wrong_passwords_answer_alike(
    store: Store, clock: FixedClock, people: People
) -> None:
    _citizen(store, clock, people)
    with pytest.raises(InvalidGrant) as unknown:
        _sign_in(store, clock, "nobody-here")
    with pytest.raises(InvalidGrant) as wrong:
        _sign_in(store, clock, people.representative_id, "not the password")
    assert unknown.value.reason == wrong.value.reason


def test_sign_in_rehashes_when_argon2_parameters_change(
    store: Store, clock: FixedClock, people: People
) -> None:
    account_id = _citizen(store, clock, people)
    from argon2 import PasswordHasher

    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    sign_in_with_password(
        store, clock, SIGNER, stronger, CIPHER, username=people.representative_id, password=PASSWORD
    )
    with store.connect() as conn:
        stored = conn.execute(
            select(identity_account.c.secret_hash).where(identity_account.c.id == account_id)
        ).scalar_one()
    assert "t=2" in stored and "m=16" in stored


def test_refresh_tokens_rotate_and_reuse_revokes_the_family(
    store: Store, clock: FixedClock, people: People
) -> None:
    account_id = _citizen(store, clock, people)
    with store.begin() as conn:
        first = issue_session(conn, SIGNER, account_id, "password", clock.now())
    assert first.refresh_token is not None
    second = refresh_session(store, clock, SIGNER, first.refresh_token)
    assert second.refresh_token not in (None, first.refresh_token)
    assert SIGNER.verify(second.access_token, clock.now()).account_id == account_id
    with pytest.raises(InvalidGrant, match="already used"):
        refresh_session(store, clock, SIGNER, first.refresh_token)
    # The thief's replay also killed the legitimate holder's newer token.
    assert second.refresh_token is not None
    with pytest.raises(InvalidGrant, match="revoked"):
        refresh_session(store, clock, SIGNER, second.refresh_token)
    actions = [e.action for e in _audit(store, f"account:{account_id}")]
    assert "identity.refresh_token_reused" in actions


def test_refresh_tokens_expire_and_unknown_ones_are_refused(
    store: Store, clock: FixedClock, people: People
) -> None:
    account_id = _citizen(store, clock, people)
    with store.begin() as conn:
        pair = issue_session(conn, SIGNER, account_id, "password", clock.now())
    assert pair.refresh_token is not None
    with pytest.raises(InvalidGrant, match="unknown"):
        refresh_session(store, clock, SIGNER, "made-up")
    clock.advance(timedelta(days=31))
    with pytest.raises(InvalidGrant, match="expired"):
        refresh_session(store, clock, SIGNER, pair.refresh_token)
