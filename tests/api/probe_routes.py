"""Routes of a throwaway app the API tests install, to provoke every kind of error."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.exc import OperationalError

from smartcity.api.auth import CurrentPrincipal
from smartcity.kernel.errors import Conflict

router = APIRouter(prefix="/probe")


@router.get("/conflict")
async def conflict() -> dict[str, str]:
    raise Conflict("the permit is already issued", permit="P-7", issued_by="天河区")


@router.get("/crash")
async def crash() -> dict[str, str]:
    raise RuntimeError("database password is hunter2")


@router.get("/lost-connection")
async def lost_connection() -> dict[str, str]:
    raise OperationalError(
        "SELECT 1", None, Exception("server closed the connection"), connection_invalidated=True
    )


@router.get("/count")
async def count(limit: Annotated[int, Query(ge=1, le=100)]) -> dict[str, int]:
    return {"limit": limit}


@router.post("/echo")
async def echo(payload: dict[str, str]) -> dict[str, str]:
    return payload


@router.post("/raw")
async def raw(request: Request) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"size": size}


@router.get("/whoami")
async def whoami(principal: CurrentPrincipal) -> dict[str, object]:
    return {
        "account": principal.account_id,
        "kind": principal.kind,
        "roles": sorted(principal.roles),
    }
