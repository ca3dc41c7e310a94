"""Permissions declared beside each route and enforced here, once.

A route names what it needs with a :class:`Requires` dependency, and the same object puts
the names in the OpenAPI operation (``x-permissions``) so the published contract says who
may call what::

    MANAGE_STAFF = requires(Permission.STAFF_ACCOUNTS)

    @router.post("/staff", openapi_extra=MANAGE_STAFF.openapi)
    async def add_staff(principal: Annotated[Principal, Depends(MANAGE_STAFF)]) -> ...

A route open to everyone says so, with the reason, through :func:`public`. A test walks
every operation of the assembled app and fails when one declares neither.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from smartcity.api.auth import bearer_token, current_principal
from smartcity.api.dependencies import platform_of
from smartcity.kernel.errors import Unauthenticated
from smartcity.kernel.identity.permissions import Permission, check_permission, holds
from smartcity.kernel.identity.principal import Principal

# Path prefixes that are public by design (each with its own access rule):
PUBLIC_PREFIXES: dict[str, str] = {
    "/healthz": "process probe for load balancers",
    "/readyz": "database probe for load balancers",
    "/docs": "API documentation",
    "/openapi.json": "the published API contract",
    "/static": "web assets",
    # The city information library is open data (一库): every department and the public
    # read it; writes are limited by tenant and will carry permissions per operation.
    "/ngsi-ld/v1": "open information library (NGSI-LD)",
    # Devices authenticate with their own API keys (gateways/iot), not bearer tokens.
    "/iot": "device API (API keys)",
}


class Requires:
    """Dependency: the caller, after checking they hold every one of ``permissions``."""

    def __init__(self, *permissions: Permission, query_token: bool = False) -> None:
        if not permissions:
            raise ValueError("name at least one permission; use public() for open routes")
        self.permissions = permissions
        self.query_token = query_token
        self.openapi: dict[str, Any] = {"x-permissions": [p.value for p in permissions]}

    async def __call__(self, request: Request) -> Principal:
        if self.query_token and bearer_token(request) is None:
            principal = _query_principal(request)
        else:
            principal = await current_principal(request)
        for permission in self.permissions:
            check_permission(principal, permission)
        return principal


def _query_principal(request: Request) -> Principal:
    token = request.query_params.get("access_token")
    if not token:
        raise Unauthenticated(
            "sign in first: send 'Authorization: Bearer <token>' or ?access_token=<token>"
        )
    platform = platform_of(request)
    return platform.tokens.verify(token, platform.clock.now())


class RequiresAny(Requires):
    """Dependency: the caller, after checking they hold at least one of ``permissions``."""

    def __init__(self, *permissions: Permission) -> None:
        super().__init__(*permissions)
        self.openapi["x-permissions-match"] = "any"

    async def __call__(self, request: Request) -> Principal:
        principal = await current_principal(request)
        if any(holds(principal, permission) for permission in self.permissions):
            return principal
        check_permission(principal, self.permissions[0])  # raises, naming what is missing
        return principal


def requires_any(*permissions: Permission) -> RequiresAny:
    """The dependency and OpenAPI declaration for a route needing one of ``permissions``.

    For routes serving several kinds of callers, each through its own permission (a
    citizen's ``account.self``, an enterprise's ``enterprise.act``); the route's action
    still decides what each may do.
    """
    return RequiresAny(*permissions)


def requires(*permissions: Permission, query_token: bool = False) -> Requires:
    """The dependency and OpenAPI declaration for a route needing ``permissions``.

    ``query_token`` also accepts the token as ``?access_token=`` (RFC 6750 §2.3), for
    browser EventSource streams, which cannot send headers; use it nowhere else, since
    URLs end up in logs.
    """
    return Requires(*permissions, query_token=query_token)


def public(reason: str) -> dict[str, Any]:
    """``openapi_extra`` of a route anyone may call, saying why."""
    return {"x-permissions": [], "x-public": reason}
