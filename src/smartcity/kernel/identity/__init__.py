"""Base registries of the city: citizens, enterprises, departments, staff and roles.

National codes are checked here: citizen IDs (GB 11643-1999) and unified social credit
codes (GB 32100-2015). Writes go through :mod:`.actions`, reads through :mod:`.queries`.
"""

from smartcity.kernel.identity.actions import (
    add_department,
    add_staff,
    register_citizen,
    register_enterprise,
)
from smartcity.kernel.identity.citizen_id import (
    CitizenId,
    Gender,
    is_valid_citizen_id,
    make_citizen_id,
    parse_citizen_id,
)
from smartcity.kernel.identity.departments import DEPARTMENTS, DEPARTMENTS_BY_CODE
from smartcity.kernel.identity.models import Citizen, Department, DepartmentKind, Enterprise, Staff
from smartcity.kernel.identity.queries import (
    citizens_in_household,
    count_citizens,
    count_citizens_by_district,
    count_enterprises,
    get_citizen,
    get_department,
    get_enterprise,
    list_departments,
    list_staff,
)
from smartcity.kernel.identity.roles import Role
from smartcity.kernel.identity.uscc import Uscc, is_valid_uscc, make_uscc, parse_uscc

__all__ = [
    "DEPARTMENTS",
    "DEPARTMENTS_BY_CODE",
    "Citizen",
    "CitizenId",
    "Department",
    "DepartmentKind",
    "Enterprise",
    "Gender",
    "Role",
    "Staff",
    "Uscc",
    "add_department",
    "add_staff",
    "citizens_in_household",
    "count_citizens",
    "count_citizens_by_district",
    "count_enterprises",
    "get_citizen",
    "get_department",
    "get_enterprise",
    "is_valid_citizen_id",
    "is_valid_uscc",
    "list_departments",
    "list_staff",
    "make_citizen_id",
    "make_uscc",
    "parse_citizen_id",
    "parse_uscc",
    "register_citizen",
    "register_enterprise",
]
