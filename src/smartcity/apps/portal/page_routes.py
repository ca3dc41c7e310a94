"""The citizen page's HTML pages (rendered in the shared layout).

The pages are static shells: each sends its translated strings in a JSON block and a
module script (``ui/static``) signs in, calls the JSON APIs with the citizen's token and
draws the answers. The server never sees the token on these routes, so they are public:
what they show comes only from the APIs, which check the token themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from smartcity.api.dependencies import platform_of
from smartcity.kernel.identity.departments import DEPARTMENTS
from smartcity.web.shell import WebShell, get_shell

router = APIRouter(include_in_schema=False)

Shell = Annotated[WebShell, Depends(get_shell)]


@router.get("/me")
async def my_page(request: Request, shell: Shell) -> HTMLResponse:
    """我的主页: profile, bills, wallet, inbox and what the installed apps add."""
    installed = {app.name for app in platform_of(request).apps}
    english = shell.locale_choice(request).locale == "en"
    # Where a suggestion may go: the department catalogue, named in the reader's language.
    departments = [
        {"code": item.code, "name": item.name_en if english else item.name} for item in DEPARTMENTS
    ]
    return shell.render(
        request,
        "portal/me.html",
        {"installed_apps": sorted(installed), "departments": departments},
    )


@router.get("/me/signin")
async def sign_in_page(request: Request, shell: Shell) -> HTMLResponse:
    """登录: password (+ TOTP), or a platform certificate and its key file."""
    return shell.render(request, "portal/signin.html")


@router.get("/me/register")
async def register_page(request: Request, shell: Shell) -> HTMLResponse:
    """注册: a citizen account after the real-name check."""
    return shell.render(request, "portal/register.html")
