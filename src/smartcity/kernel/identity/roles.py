"""Roles government staff hold. A staff member belongs to one department, with one or more roles."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from smartcity.kernel.errors import InvalidInput


class Role(StrEnum):
    """What a staff member may do on the platform."""

    DISPATCHER = "dispatcher"  # routes hotline and grid cases to departments
    OFFICER = "officer"  # handles cases and service applications
    INSPECTOR = "inspector"  # grid inspector: reports and verifies cases on the street
    SUPERVISOR = "supervisor"  # approves, escalates, watches deadlines
    ADMINISTRATOR = "administrator"  # manages the department's staff and settings


_ORDER = {role: index for index, role in enumerate(Role)}


def normalise_roles(roles: Iterable[Role | str]) -> tuple[Role, ...]:
    """Distinct roles in declaration order; unknown names or an empty set raise InvalidInput."""
    found: set[Role] = set()
    for role in roles:
        try:
            found.add(Role(role))
        except ValueError:
            known = ", ".join(Role)
            raise InvalidInput(f"unknown role {role!r} (known: {known})", part="roles") from None
    if not found:
        raise InvalidInput("a staff member needs at least one role", part="roles")
    return tuple(sorted(found, key=_ORDER.__getitem__))


def format_roles(roles: Iterable[Role | str]) -> str:
    """Roles as stored: comma-separated names, e.g. ``"officer,supervisor"``."""
    return ",".join(normalise_roles(roles))


def parse_roles(text: str) -> tuple[Role, ...]:
    """Roles from their stored text."""
    return normalise_roles(part for part in text.split(",") if part)
