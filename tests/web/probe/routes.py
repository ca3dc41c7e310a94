from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from smartcity.web.shell import WebShell, get_shell

router = APIRouter()


@router.get("/probe-page")
async def probe_page(
    request: Request, shell: Annotated[WebShell, Depends(get_shell)]
) -> HTMLResponse:
    return shell.render(
        request, "probe/page.html", {"visitor": "<script>"}, vendor_files=("echarts.min.js",)
    )
