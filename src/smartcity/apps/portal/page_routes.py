"""The citizen page's HTML pages (rendered in the shared layout).

The pages are static shells: each sends its translated strings in a JSON block and a
module script (``ui/static``) signs in, calls the JSON APIs with the citizen's token and
draws the answers. The server never sees the token on these routes, so they are public:
what they show comes only from the APIs, which check the token themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse

from smartcity.api.dependencies import platform_of
from smartcity.apps.portal.links import MY_PAGE, item_link
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


# Links that inbox messages carried before they pointed into /me (apps/portal/links.py):
# messages already delivered keep them, so they lead to the same places.
Key = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


@router.get("/bills/{bill_number}")
async def old_bill_link(bill_number: Key) -> RedirectResponse:
    """An old ``/bills/<number>`` link: the bill on 我的主页."""
    return RedirectResponse(item_link("bill", bill_number), status_code=308)


@router.get("/receipts/{receipt_number}")
async def old_receipt_link(receipt_number: Key) -> RedirectResponse:
    """An old ``/receipts/<number>`` link: the paid bill and its receipt on 我的主页."""
    return RedirectResponse(item_link("receipt", receipt_number), status_code=308)


@router.get("/my")
async def old_notice_link(
    notice: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> RedirectResponse:
    """An old ``/my?notice=<id>`` link: the notice under "notices for me"."""
    target = MY_PAGE if notice is None else item_link("notice", notice)
    return RedirectResponse(target, status_code=308)
