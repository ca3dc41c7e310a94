"""HTTP of the targeting app under ``/api/targeting``: thin, checks declared beside routes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from smartcity.api.dependencies import get_platform
from smartcity.api.permissions import requires
from smartcity.apps.targeting import actions, storage
from smartcity.apps.targeting.models import (
    EventRequest,
    EventView,
    MyNoticeView,
    NoticeRequest,
    NoticeView,
    PreviewRequest,
    PreviewView,
    ReachView,
)
from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.permissions import (
    Permission,
    check_department,
    is_city_administrator,
)
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.platform import Platform
from smartcity.web.shell import WebShell, get_shell

api = APIRouter(prefix="/api/targeting", tags=["信息找人 Targeted notices"])

PUBLISH = requires(Permission.NOTICE_PUBLISH)
SELF = requires(Permission.ACCOUNT_SELF)
PlatformDependency = Annotated[Platform, Depends(get_platform)]
Publisher = Annotated[Principal, Depends(PUBLISH)]
Citizen = Annotated[Principal, Depends(SELF)]
NoticeId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=storage.PAGE_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@api.post(
    "/preview",
    summary="预估触达 How many persons an audience rule reaches (sends nothing)",
    openapi_extra=PUBLISH.openapi,
)
async def preview(
    body: PreviewRequest, platform: PlatformDependency, principal: Publisher
) -> PreviewView:
    return await run_in_threadpool(actions.preview, platform, body.audience, body.on)


@api.post(
    "/notices",
    summary="起草通知 Author a notice with an audience rule",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=PUBLISH.openapi,
)
def create_notice(
    body: NoticeRequest, platform: PlatformDependency, principal: Publisher
) -> NoticeView:
    return actions.create_notice(platform, principal, body)


@api.get(
    "/notices",
    summary="通知列表 Notices of my department (every department for city administrators)",
    openapi_extra=PUBLISH.openapi,
)
def list_notices(
    platform: PlatformDependency, principal: Publisher, limit: Limit = 50, offset: Offset = 0
) -> list[NoticeView]:
    # Staff see their own department's notices; city administrators see every one.
    department = None if is_city_administrator(principal) else (principal.department_code or "")
    with platform.store.connect() as conn:
        return storage.list_notices(conn, department, limit, offset)


@api.get("/notices/{notice_id}", summary="通知 One notice", openapi_extra=PUBLISH.openapi)
def get_notice(
    notice_id: NoticeId, platform: PlatformDependency, principal: Publisher
) -> NoticeView:
    with platform.store.connect() as conn:
        notice = storage.get_notice(conn, notice_id)
    check_department(principal, notice.department_code)
    return notice


@api.post(
    "/notices/{notice_id}/publish",
    summary="发布 Publish a draft: deliver to every matching citizen's inbox",
    openapi_extra=PUBLISH.openapi,
)
async def publish_notice(
    notice_id: NoticeId, platform: PlatformDependency, principal: Publisher
) -> NoticeView:
    return await run_in_threadpool(actions.publish_notice, platform, principal, notice_id)


@api.get(
    "/notices/{notice_id}/reach",
    summary="触达 Matched, delivered and read counts of a notice",
    openapi_extra=PUBLISH.openapi,
)
def reach(notice_id: NoticeId, platform: PlatformDependency, principal: Publisher) -> ReachView:
    with platform.store.connect() as conn:
        department = storage.notice_row(conn, notice_id).department_code
        check_department(principal, department)
        return storage.reach_of(conn, notice_id)


@api.post(
    "/events",
    summary="区域事件 Record an outage or works in an area (for area_event rules)",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=PUBLISH.openapi,
)
def record_event(
    body: EventRequest, platform: PlatformDependency, principal: Publisher
) -> EventView:
    return actions.record_event(platform, principal, body)


@api.get("/events", summary="区域事件列表 Recorded area events", openapi_extra=PUBLISH.openapi)
def list_events(
    platform: PlatformDependency, principal: Publisher, limit: Limit = 50, offset: Offset = 0
) -> list[EventView]:
    with platform.store.connect() as conn:
        return storage.list_events(conn, limit, offset)


@api.get(
    "/mine",
    summary="我的通知 Live notices that concern me",
    openapi_extra=SELF.openapi,
)
async def mine(
    platform: PlatformDependency,
    principal: Citizen,
    lang: Annotated[Literal["zh_CN", "en"] | None, Query()] = None,
) -> list[MyNoticeView]:
    if principal.kind is not AccountKind.CITIZEN:
        raise PermissionDenied("only citizens have notices of their own", kind=principal.kind.value)
    locale = lang or platform.settings.default_locale
    return await run_in_threadpool(actions.my_notices, platform, principal.subject, locale)


pages = APIRouter(include_in_schema=False)


@pages.get("/targeting")
async def notices_page(
    request: Request, shell: Annotated[WebShell, Depends(get_shell)]
) -> HTMLResponse:
    """信息找人 staff page: author, preview, publish, reach (signs in with a staff account)."""
    return shell.render(request, "targeting/notices.html")


router = APIRouter()
router.include_router(api)
router.include_router(pages)
