"""The read side of the base registries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from smartcity.kernel.errors import InvalidInput, NotFound
from smartcity.kernel.identity.citizen_id import Gender
from smartcity.kernel.identity.models import Citizen, Department, DepartmentKind, Enterprise, Staff
from smartcity.kernel.identity.roles import parse_roles
from smartcity.kernel.identity.tables import (
    identity_citizen,
    identity_department,
    identity_enterprise,
    identity_staff,
)
from smartcity.kernel.identity.uscc import parse_uscc
from smartcity.kernel.storage import Store


def _normalised_national_id(national_id: str) -> str:
    text = national_id.strip().upper() if isinstance(national_id, str) else ""
    if len(text) != 18:
        # Only the shape matters for a lookup: a citizen registered before a division
        # code was retired must still be found, so no full validation here.
        raise InvalidInput("citizen ID must be 18 characters long", part="length")
    return text


def _citizen(row: Any) -> Citizen:
    return Citizen(
        id=row.id,
        national_id=row.national_id,
        name=row.name,
        gender=Gender(row.gender),
        birth_date=row.birth_date,
        phone=row.phone,
        community_code=row.community_code,
        grid_code=row.grid_code,
        district_code=row.district_code,
        occupation=row.occupation,
        household_id=row.household_id,
    )


def get_citizen(store: Store, national_id: str) -> Citizen:
    """The citizen with this national ID (lowercase ``x`` accepted); NotFound otherwise."""
    key = _normalised_national_id(national_id)
    with store.connect() as conn:
        row = conn.execute(
            select(identity_citizen).where(identity_citizen.c.national_id == key)
        ).first()
    if row is None:
        raise NotFound(f"no citizen with ID {key}", part="national id")
    return _citizen(row)


def citizens_in_household(store: Store, household_id: int) -> list[Citizen]:
    """Everyone registered in one household, oldest first."""
    with store.connect() as conn:
        rows = conn.execute(
            select(identity_citizen)
            .where(identity_citizen.c.household_id == household_id)
            .order_by(identity_citizen.c.birth_date, identity_citizen.c.id)
        ).all()
    return [_citizen(row) for row in rows]


def count_citizens(store: Store) -> int:
    """How many citizens the registry holds."""
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(identity_citizen)).scalar_one())


def count_citizens_by_district(store: Store) -> dict[str, int]:
    """Registered residents per district code, in district-code order."""
    with store.connect() as conn:
        rows = conn.execute(
            select(identity_citizen.c.district_code, func.count())
            .group_by(identity_citizen.c.district_code)
            .order_by(identity_citizen.c.district_code)
        ).all()
    return {district: int(count) for district, count in rows}


def get_enterprise(store: Store, uscc: str) -> Enterprise:
    """The enterprise with this unified social credit code; NotFound otherwise."""
    key = parse_uscc(uscc).text
    with store.connect() as conn:
        row = conn.execute(
            select(identity_enterprise).where(identity_enterprise.c.uscc == key)
        ).first()
    if row is None:
        raise NotFound(f"no enterprise with USCC {key}", part="uscc")
    return Enterprise(
        id=row.id,
        uscc=row.uscc,
        name=row.name,
        legal_representative=row.legal_representative,
        district_code=row.district_code,
        industry=row.industry,
        registered_at=row.registered_at,
    )


def count_enterprises(store: Store) -> int:
    """How many enterprises the registry holds."""
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(identity_enterprise)).scalar_one())


def _department(row: Any) -> Department:
    return Department(
        code=row.code,
        name=row.name,
        name_en=row.name_en,
        short_name=row.short_name,
        kind=DepartmentKind(row.kind),
        district_code=row.district_code,
    )


def list_departments(store: Store, kind: DepartmentKind | None = None) -> list[Department]:
    """Every department (or those of one kind), ordered by code."""
    query = select(identity_department).order_by(identity_department.c.code)
    if kind is not None:
        query = query.where(identity_department.c.kind == DepartmentKind(kind).value)
    with store.connect() as conn:
        return [_department(row) for row in conn.execute(query)]


def get_department(store: Store, code: str) -> Department:
    """One department by code; NotFound otherwise."""
    with store.connect() as conn:
        row = conn.execute(
            select(identity_department).where(identity_department.c.code == code)
        ).first()
    if row is None:
        raise NotFound(f"no department {code!r}", part="department")
    return _department(row)


def list_staff(store: Store, department_code: str | None = None) -> list[Staff]:
    """Staff of one department (or of all), ordered by employee number."""
    query = select(identity_staff).order_by(identity_staff.c.employee_number)
    if department_code is not None:
        query = query.where(identity_staff.c.department_code == department_code)
    with store.connect() as conn:
        return [
            Staff(
                id=row.id,
                department_code=row.department_code,
                name=row.name,
                roles=parse_roles(row.roles),
                employee_number=row.employee_number,
            )
            for row in conn.execute(query)
        ]
