"""Liveness and readiness probes, as load balancers and orchestrators expect them."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from smartcity.api.dependencies import get_store
from smartcity.api.problems import problem_response
from smartcity.api.responses import JsonResponse
from smartcity.kernel.storage import Store

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="进程存活 Liveness: the process answers (no database)")
async def healthz() -> Response:
    """Answer without touching the database, so a slow database never restarts workers."""
    return JsonResponse({"status": "ok"})


@router.get(
    "/readyz",
    summary="可以服务 Readiness: the database answers",
    responses={503: {"description": "The database does not answer (problem document)."}},
)
async def readyz(request: Request, store: Annotated[Store, Depends(get_store)]) -> Response:
    """503 while the store does not answer, so balancers send traffic elsewhere."""
    try:
        await run_in_threadpool(store.ping)
    except Exception:
        # The driver's message may name hosts or users: log it, do not answer with it.
        log.exception("readiness check failed: the store does not answer")
        return problem_response(
            request,
            status=503,
            code="store-unavailable",
            title="Service unavailable",
            detail="the database does not answer",
        )
    return JsonResponse({"status": "ready"})
