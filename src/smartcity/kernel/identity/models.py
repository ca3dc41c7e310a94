"""Domain types of the base registries: citizens, enterprises, departments, staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from smartcity.kernel.identity.citizen_id import Gender
from smartcity.kernel.identity.roles import Role


class DepartmentKind(StrEnum):
    """What sort of organisation a department is."""

    BUREAU = "bureau"  # a municipal government department or a state body in the city
    UTILITY = "utility"  # power, water, gas, public transport operators
    TELECOM = "telecom"  # telecom operators
    DISTRICT_GOVERNMENT = "district_government"


@dataclass(frozen=True)
class Department:
    """A department of the city (bureau, utility, telecom operator, district government)."""

    code: str
    name: str
    name_en: str
    short_name: str
    kind: DepartmentKind
    district_code: str | None = None


@dataclass(frozen=True)
class Staff:
    """A government or utility staff member."""

    id: int
    department_code: str
    name: str
    roles: tuple[Role, ...]
    employee_number: str


@dataclass(frozen=True)
class Citizen:
    """A resident in the population registry."""

    id: int
    national_id: str
    name: str
    gender: Gender
    birth_date: date
    phone: str | None
    community_code: str
    grid_code: str
    district_code: str
    occupation: str | None
    household_id: int | None


@dataclass(frozen=True)
class Enterprise:
    """A legal person in the enterprise registry."""

    id: int
    uscc: str
    name: str
    legal_representative: str
    district_code: str
    industry: str
    registered_at: date
