"""Demo accounts of the seeded city, one of each kind, with published passwords.

They belong to demo people added next to the synthetic population, with fixed national
IDs, a fixed USCC and fixed employee numbers, so the credentials in
``docs/kernel/identity.md`` hold for every seed and profile. One argon2 hash is shared by
all of them (the password is public anyway), which keeps seeding fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.geo.queries import load_areas
from smartcity.kernel.identity import (
    add_staff,
    make_citizen_id,
    make_uscc,
    register_citizen,
    register_enterprise,
)
from smartcity.kernel.identity.account_tables import identity_account, identity_enterprise_agent
from smartcity.kernel.identity.accounts import open_account
from smartcity.kernel.identity.passwords import DEFAULT_HASHER, hash_password
from smartcity.kernel.identity.principal import AccountKind
from smartcity.kernel.identity.tables import identity_citizen, identity_enterprise, identity_staff
from smartcity.kernel.storage import Store

DEMO_PASSWORD = "smartcity-demo"  # noqa: S105 - published in docs/kernel/identity.md
DEMO_CITIZEN = make_citizen_id("440106", date(1985, 6, 15), 991).text
DEMO_CITIZEN_NAME = "演示市民"
DEMO_AGENT = make_citizen_id("440106", date(1990, 9, 9), 993).text
DEMO_AGENT_NAME = "演示代办"
DEMO_USCC = make_uscc("9", "1", "440106", "MA5DEM01").text
DEMO_ENTERPRISE_NAME = "广州演示科技有限公司"
# Residents the demo adds to the registry on top of the profile's population.
DEMO_PEOPLE = 2
# (employee number, department, roles, name)
DEMO_STAFF: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("GZ-BGT-9001", "GZ-BGT", ("administrator",), "演示市级管理员"),
    ("GZ-GAJ-9001", "GZ-GAJ", ("administrator",), "演示部门管理员"),
    ("GZ-RXZX-9001", "GZ-RXZX", ("dispatcher",), "演示派单员"),
    ("GZ-GAJ-9002", "GZ-GAJ", ("officer",), "演示办事员"),
    ("GZ-CGJ-9001", "GZ-CGJ", ("inspector",), "演示巡查员"),
    ("GZ-GAJ-9003", "GZ-GAJ", ("supervisor",), "演示督办员"),
)


@dataclass(frozen=True)
class DemoAccounts:
    accounts: int
    usernames: tuple[str, ...]


def _ensure_person(store: Store, national_id: str, name: str, today: date) -> None:
    with store.connect() as conn:
        found = conn.execute(
            select(identity_citizen.c.id).where(identity_citizen.c.national_id == national_id)
        ).first()
    if found is not None:
        return
    community = next(iter(load_areas(store, "community")))
    grid = next(g for g in load_areas(store, "grid") if g.parent_code == community.code)
    register_citizen(
        store,
        national_id=national_id,
        name=name,
        community_code=community.code,
        grid_code=grid.code,
        today=today,
    )


def seed_demo_accounts(store: Store, clock: Clock) -> DemoAccounts:
    """Add the demo people and their accounts to a seeded city."""
    today = clock.now().date()
    _ensure_person(store, DEMO_CITIZEN, DEMO_CITIZEN_NAME, today)
    _ensure_person(store, DEMO_AGENT, DEMO_AGENT_NAME, today)
    register_enterprise(
        store,
        uscc=DEMO_USCC,
        name=DEMO_ENTERPRISE_NAME,
        legal_representative=DEMO_CITIZEN,
        industry="软件和信息技术服务业",
        registered_at=date(2018, 3, 1),
        today=today,
    )
    for employee_number, department, roles, name in DEMO_STAFF:
        add_staff(
            store,
            department_code=department,
            name=name,
            roles=roles,
            employee_number=employee_number,
        )
    secret_hash = hash_password(DEFAULT_HASHER, DEMO_PASSWORD)
    usernames: list[str] = []
    with store.begin() as conn:
        now = clock.now()

        def citizen_id(national_id: str) -> int:
            return int(
                conn.execute(
                    select(identity_citizen.c.id).where(
                        identity_citizen.c.national_id == national_id
                    )
                ).scalar_one()
            )

        common = {"secret_hash": secret_hash, "created_by": "system:seed"}
        for national_id, name in ((DEMO_CITIZEN, DEMO_CITIZEN_NAME), (DEMO_AGENT, DEMO_AGENT_NAME)):
            open_account(
                conn,
                now,
                kind=AccountKind.CITIZEN.value,
                username=national_id,
                display_name=name,
                citizen_id=citizen_id(national_id),
                **common,
            )
            usernames.append(national_id)
        enterprise_id = conn.execute(
            select(identity_enterprise.c.id).where(identity_enterprise.c.uscc == DEMO_USCC)
        ).scalar_one()
        enterprise_account = open_account(
            conn,
            now,
            kind=AccountKind.ENTERPRISE.value,
            username=DEMO_USCC,
            display_name=DEMO_ENTERPRISE_NAME,
            enterprise_id=enterprise_id,
            **common,
        )
        usernames.append(DEMO_USCC)
        agent_account = conn.execute(
            select(identity_account.c.id).where(identity_account.c.username == DEMO_AGENT)
        ).scalar_one()
        conn.execute(
            identity_enterprise_agent.insert().values(
                enterprise_id=enterprise_id,
                agent_account_id=agent_account,
                granted_at=now,
                granted_by=enterprise_account,
            )
        )
        for employee_number, department, _roles, name in DEMO_STAFF:
            staff_id = conn.execute(
                select(identity_staff.c.id).where(
                    identity_staff.c.employee_number == employee_number
                )
            ).scalar_one()
            open_account(
                conn,
                now,
                kind=AccountKind.STAFF.value,
                username=employee_number,
                display_name=name,
                staff_id=staff_id,
                department_code=department,
                **common,
            )
            usernames.append(employee_number)
        audit.append(
            conn,
            clock,
            actor="system:seed",
            action="identity.demo_accounts_created",
            subject="identity:demo",
            details={"usernames": usernames, "agents": [DEMO_AGENT]},
        )
    return DemoAccounts(accounts=len(usernames), usernames=tuple(usernames))
