"""A small registry for the account tests: two departments, staff, citizens, an enterprise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from argon2 import PasswordHasher

from smartcity.kernel.identity import (
    DEPARTMENTS_BY_CODE,
    add_department,
    add_staff,
    make_citizen_id,
    make_uscc,
    register_citizen,
    register_enterprise,
)
from smartcity.kernel.storage import Store

# Cheap argon2 parameters: the tests check behaviour, not the cost of hashing.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
TODAY = date(2026, 11, 21)
PASSWORD = "correct horse 7"


@dataclass(frozen=True)
class People:
    representative_id: str  # citizen, legal representative of the enterprise
    representative_name: str
    agent_id: str  # another citizen
    agent_name: str
    uscc: str
    police_administrator: str  # employee numbers
    police_officer: str
    city_administrator: str
    planning_officer: str


def seed_people(store: Store) -> People:
    for code in ("GZ-BGT", "GZ-GAJ", "GZ-GHZYJ"):
        add_department(store, DEPARTMENTS_BY_CODE[code])
    add_staff(
        store,
        department_code="GZ-GAJ",
        name="王警官",
        roles=["administrator"],
        employee_number="GZ-GAJ-0001",
    )
    add_staff(
        store,
        department_code="GZ-GAJ",
        name="李警员",
        roles=["officer"],
        employee_number="GZ-GAJ-0002",
    )
    add_staff(
        store,
        department_code="GZ-BGT",
        name="张主任",
        roles=["administrator"],
        employee_number="GZ-BGT-0001",
    )
    add_staff(
        store,
        department_code="GZ-GHZYJ",
        name="赵规划",
        roles=["officer"],
        employee_number="GZ-GHZYJ-0001",
    )
    representative = make_citizen_id("440106", date(1980, 5, 17), 123).text
    agent = make_citizen_id("440106", date(1992, 3, 2), 456).text
    for national_id, name in ((representative, "陈大文"), (agent, "林小红")):
        register_citizen(
            store,
            national_id=national_id,
            name=name,
            community_code="440106001002",
            grid_code="440106001002003",
            today=TODAY,
        )
    uscc = make_uscc("9", "1", "440106", "MA5D8K2L").text
    register_enterprise(
        store,
        uscc=uscc,
        name="广州市天河示例科技有限公司",
        legal_representative=representative,
        industry="软件",
        registered_at=date(2015, 6, 1),
        today=TODAY,
    )
    return People(
        representative_id=representative,
        representative_name="陈大文",
        agent_id=agent,
        agent_name="林小红",
        uscc=uscc,
        police_administrator="GZ-GAJ-0001",
        police_officer="GZ-GAJ-0002",
        city_administrator="GZ-BGT-0001",
        planning_officer="GZ-GHZYJ-0001",
    )
