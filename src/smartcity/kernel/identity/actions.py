"""The write path of the base registries: one function per use case, each its own transaction.

Duplicates are refused with :class:`Conflict`; malformed input with :class:`InvalidInput`
whose ``part`` detail names the field or code part that failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.identity.citizen_id import Gender, parse_citizen_id
from smartcity.kernel.identity.divisions import division_problem, place_problem
from smartcity.kernel.identity.models import Citizen, Department, DepartmentKind, Enterprise, Staff
from smartcity.kernel.identity.roles import Role, format_roles, normalise_roles
from smartcity.kernel.identity.tables import (
    identity_citizen,
    identity_department,
    identity_enterprise,
    identity_staff,
)
from smartcity.kernel.identity.uscc import parse_uscc
from smartcity.kernel.storage import Store

_PHONE = re.compile(r"1[3-9][0-9]{9}")
_DEPARTMENT_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,15}")
_EMPLOYEE_NUMBER = re.compile(r"[A-Za-z0-9-]{1,24}")


def _text(value: str, part: str, limit: int) -> str:
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned:
        raise InvalidInput(f"{part} must not be empty", part=part)
    if len(cleaned) > limit:
        raise InvalidInput(f"{part} is longer than {limit} characters", part=part)
    return cleaned


def _exists(conn: Connection, table: Table, column: str, value: object) -> bool:
    found = conn.execute(select(table.c[column]).where(table.c[column] == value)).first()
    return found is not None


def register_citizen(
    store: Store,
    *,
    national_id: str,
    name: str,
    community_code: str,
    grid_code: str,
    phone: str | None = None,
    gender: Gender | None = None,
    birth_date: date | None = None,
    occupation: str | None = None,
    household_id: int | None = None,
    today: date | None = None,
) -> Citizen:
    """Register a resident in the population registry.

    The national ID is validated (GB 11643); if ``gender`` or ``birth_date`` is given it
    must agree with what the ID encodes. The district is the community code's first six
    digits. ``today`` bounds the birth date (default: the system date). Raises
    :class:`Conflict` when the national ID is already registered.
    """
    parsed = parse_citizen_id(national_id, today=today)
    if gender is not None and Gender(gender) != parsed.gender:
        raise InvalidInput(
            f"gender {Gender(gender).value!r} disagrees with the citizen ID, "
            f"which encodes {parsed.gender.value!r}",
            part="gender",
        )
    if birth_date is not None and birth_date != parsed.birth_date:
        raise InvalidInput(
            f"birth date {birth_date} disagrees with the citizen ID, "
            f"which encodes {parsed.birth_date}",
            part="birth date",
        )
    clean_name = _text(name, "name", 32)
    district_code = community_code[:6]
    problem = place_problem(district_code, community_code, grid_code)
    if problem is not None:
        raise InvalidInput(problem, part="residence")
    if phone is not None and not _PHONE.fullmatch(phone):
        raise InvalidInput(f"phone {phone!r} must be an 11-digit mobile number", part="phone")
    clean_occupation = _text(occupation, "occupation", 16) if occupation is not None else None
    row = {
        "national_id": parsed.text,
        "name": clean_name,
        "gender": parsed.gender.value,
        "birth_date": parsed.birth_date,
        "phone": phone,
        "community_code": community_code,
        "grid_code": grid_code,
        "district_code": district_code,
        "occupation": clean_occupation,
        "household_id": household_id,
    }
    duplicate = Conflict(f"citizen ID {parsed.text} is already registered", part="national id")
    try:
        with store.begin() as conn:
            if _exists(conn, identity_citizen, "national_id", parsed.text):
                raise duplicate
            new_id = conn.execute(
                identity_citizen.insert().values(**row).returning(identity_citizen.c.id)
            ).scalar_one()
    except IntegrityError:
        # Another writer registered the same ID between our check and our insert.
        raise duplicate from None
    return Citizen(
        id=new_id,
        national_id=parsed.text,
        name=clean_name,
        gender=parsed.gender,
        birth_date=parsed.birth_date,
        phone=phone,
        community_code=community_code,
        grid_code=grid_code,
        district_code=district_code,
        occupation=clean_occupation,
        household_id=household_id,
    )


def register_enterprise(
    store: Store,
    *,
    uscc: str,
    name: str,
    legal_representative: str,
    industry: str,
    registered_at: date,
    district_code: str | None = None,
    today: date | None = None,
) -> Enterprise:
    """Register a legal person in the enterprise registry.

    The USCC is validated (GB 32100) and so is the legal representative's citizen ID. The
    district defaults to the USCC's division code. Raises :class:`Conflict` when the USCC
    is already registered.
    """
    parsed = parse_uscc(uscc)
    representative = parse_citizen_id(legal_representative, today=today)
    clean_name = _text(name, "name", 100)
    clean_industry = _text(industry, "industry", 32)
    district = district_code if district_code is not None else parsed.division_code
    problem = division_problem(district)
    if problem is not None:
        raise InvalidInput(problem, part="district code")
    if registered_at > (today if today is not None else date.today()):
        raise InvalidInput(
            f"registration date {registered_at} is in the future", part="registered at"
        )
    duplicate = Conflict(f"USCC {parsed.text} is already registered", part="uscc")
    try:
        with store.begin() as conn:
            if _exists(conn, identity_enterprise, "uscc", parsed.text):
                raise duplicate
            new_id = conn.execute(
                identity_enterprise.insert()
                .values(
                    uscc=parsed.text,
                    name=clean_name,
                    legal_representative=representative.text,
                    district_code=district,
                    industry=clean_industry,
                    registered_at=registered_at,
                )
                .returning(identity_enterprise.c.id)
            ).scalar_one()
    except IntegrityError:
        raise duplicate from None
    return Enterprise(
        id=new_id,
        uscc=parsed.text,
        name=clean_name,
        legal_representative=representative.text,
        district_code=district,
        industry=clean_industry,
        registered_at=registered_at,
    )


def _department_row(department: Department) -> dict[str, object]:
    if not _DEPARTMENT_CODE.fullmatch(department.code):
        raise InvalidInput(
            f"department code {department.code!r} must be up to 16 capitals, digits and '-'",
            part="code",
        )
    if department.district_code is not None:
        problem = division_problem(department.district_code)
        if problem is not None:
            raise InvalidInput(problem, part="district code")
    return {
        "code": department.code,
        "name": _text(department.name, "name", 64),
        "name_en": _text(department.name_en, "English name", 128),
        "short_name": _text(department.short_name, "short name", 16),
        "kind": DepartmentKind(department.kind).value,
        "district_code": department.district_code,
    }


def add_department(store: Store, department: Department) -> Department:
    """Add a department to the catalogue. Raises :class:`Conflict` if its code is taken."""
    row = _department_row(department)
    duplicate = Conflict(f"department {department.code} already exists", part="code")
    try:
        with store.begin() as conn:
            if _exists(conn, identity_department, "code", department.code):
                raise duplicate
            conn.execute(identity_department.insert().values(**row))
    except IntegrityError:
        raise duplicate from None
    return department


def add_staff(
    store: Store,
    *,
    department_code: str,
    name: str,
    roles: Iterable[Role | str],
    employee_number: str,
) -> Staff:
    """Add a staff member to a department with one or more roles.

    Raises :class:`NotFound` for an unknown department and :class:`Conflict` when the
    employee number is taken.
    """
    clean_roles = normalise_roles(roles)
    clean_name = _text(name, "name", 32)
    if not _EMPLOYEE_NUMBER.fullmatch(employee_number):
        raise InvalidInput(
            f"employee number {employee_number!r} must be 1-24 letters, digits or '-'",
            part="employee number",
        )
    duplicate = Conflict(
        f"employee number {employee_number} is already taken", part="employee number"
    )
    try:
        with store.begin() as conn:
            if not _exists(conn, identity_department, "code", department_code):
                raise NotFound(f"no department {department_code!r}", part="department")
            if _exists(conn, identity_staff, "employee_number", employee_number):
                raise duplicate
            new_id = conn.execute(
                identity_staff.insert()
                .values(
                    department_code=department_code,
                    name=clean_name,
                    roles=format_roles(clean_roles),
                    employee_number=employee_number,
                )
                .returning(identity_staff.c.id)
            ).scalar_one()
    except IntegrityError:
        raise duplicate from None
    return Staff(
        id=new_id,
        department_code=department_code,
        name=clean_name,
        roles=clean_roles,
        employee_number=employee_number,
    )
