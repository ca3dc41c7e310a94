"""Authentication for routes: the bearer access token becomes a :class:`Principal`.

Routes declare who may call them beside the route itself, through these dependencies;
checking happens once, here, and never inside actions. The token check needs no database
round trip (see :mod:`smartcity.kernel.identity.tokens`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from smartcity.api.dependencies import platform_of
from smartcity.kernel.errors import Unauthenticated
from smartcity.kernel.identity.principal import Principal


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if the request has one."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <access token>'")
    return token.strip()


async def optional_principal(request: Request) -> Principal | None:
    """Dependency: the caller when a token is sent (it must then be valid), else None."""
    token = bearer_token(request)
    if token is None:
        return None
    platform = platform_of(request)
    return platform.tokens.verify(token, platform.clock.now())


async def current_principal(request: Request) -> Principal:
    """Dependency: the authenticated caller; 401 when no valid token is sent."""
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthenticated("sign in first: send 'Authorization: Bearer <access token>'")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
