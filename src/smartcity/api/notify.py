"""HTTP routes of notifications: the inbox, preferences, the realtime stream, staff sending.

Every inbox route acts on the signed-in account only: another account's message is a
404, never a 403, so ids reveal nothing. ``GET /notify/stream`` is Server-Sent Events;
browsers' ``EventSource`` cannot send headers, so that route also takes the access token
as ``?access_token=`` (RFC 6750 §2.3).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from smartcity.api.dependencies import platform_of
from smartcity.api.permissions import requires
from smartcity.api.responses import JsonResponse
from smartcity.kernel.errors import (
    ConfigurationError,
    InvalidInput,
)
from smartcity.kernel.identity.permissions import Permission
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.notify import actions, queries
from smartcity.kernel.notify.categories import parse_category
from smartcity.kernel.notify.models import InboxMessage
from smartcity.kernel.notify.preferences import (
    DEFAULT_TIMEZONE,
    Preferences,
    QuietHours,
    check_email,
    check_locale,
    check_phone,
    parse_channels,
    read_preferences,
    zone_named,
)
from smartcity.kernel.notify.runtime import NotifyRuntime
from smartcity.kernel.platform import Platform

router = APIRouter(prefix="/notify", tags=["notify 通知"])

# Staff roles that may send messages and read the outbox. One place, so the permission
# catalogue can take this over.
KEEPALIVE_SECONDS = 15.0
MAX_RECIPIENTS = 100_000
# Ids are 64-bit in the database; a larger number is a 422, not a driver overflow.
MAX_ID = 2**63 - 1


def runtime_of(request: Request) -> NotifyRuntime:
    runtime = getattr(request.app.state, "notify", None)
    if not isinstance(runtime, NotifyRuntime):
        raise ConfigurationError("the notification service was not started (API lifespan)")
    return runtime


def _category_or_none(category: str | None) -> Any:
    return None if category is None or category == "" else parse_category(category)


OWN_INBOX = requires(Permission.ACCOUNT_SELF)
OWN_STREAM = requires(Permission.ACCOUNT_SELF, query_token=True)
SEND = requires(Permission.NOTIFY_SEND)
READ_OUTBOX = requires(Permission.NOTIFY_OUTBOX)
Owner = Annotated[Principal, Depends(OWN_INBOX)]


@router.get(
    "/inbox",
    summary="收件箱 The signed-in account's inbox, newest first",
    openapi_extra=OWN_INBOX.openapi,
)
def get_inbox(
    request: Request,
    principal: Owner,
    unread: Annotated[bool, Query(description="only unread messages")] = False,
    category: Annotated[str | None, Query(description="bill, notice, alert, ...")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JsonResponse:
    chosen = _category_or_none(category)
    with platform_of(request).store.connect() as conn:
        page = queries.list_inbox(
            conn,
            principal.account_id,
            unread_only=unread,
            category=chosen,
            limit=limit,
            offset=offset,
        )
    return JsonResponse(page.to_json())


@router.post(
    "/inbox/read-all",
    summary="全部已读 Mark every unread message read",
    openapi_extra=OWN_INBOX.openapi,
)
def read_all(
    request: Request,
    principal: Owner,
    category: Annotated[str | None, Query(description="only this category")] = None,
) -> JsonResponse:
    chosen = _category_or_none(category)
    platform = platform_of(request)
    with platform.store.begin() as conn:
        marked = actions.mark_all_read(conn, principal.account_id, platform.clock.now(), chosen)
    return JsonResponse({"marked": marked})


@router.post(
    "/inbox/{message_id}/read",
    summary="标为已读 Mark one message read",
    openapi_extra=OWN_INBOX.openapi,
)
def read_one(
    request: Request,
    principal: Owner,
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> JsonResponse:
    platform = platform_of(request)
    with platform.store.begin() as conn:
        message = actions.mark_read(conn, principal.account_id, message_id, platform.clock.now())
    return JsonResponse(message.to_json())


class PreferencesBody(BaseModel):
    """The whole preference set (PUT replaces it)."""

    model_config = ConfigDict(extra="forbid")

    locale: str = "zh_CN"
    channels: dict[str, list[str]] = Field(
        default_factory=dict,
        description='category → channels besides the inbox, e.g. {"bill": ["sms", "email"]}',
    )
    quiet_hours: str | None = Field(default=None, description="HH:MM-HH:MM local time, or null")
    timezone: str = DEFAULT_TIMEZONE
    phone: str | None = None
    email: str | None = None


@router.get(
    "/preferences",
    summary="通知偏好 The signed-in account's preferences",
    openapi_extra=OWN_INBOX.openapi,
)
def get_preferences(request: Request, principal: Owner) -> JsonResponse:
    platform = platform_of(request)
    with platform.store.connect() as conn:
        preferences = read_preferences(conn, principal.account_id, platform.settings.default_locale)
    return JsonResponse(preferences.to_json())


@router.put(
    "/preferences",
    summary="设置通知偏好 Replace the account's preferences",
    openapi_extra=OWN_INBOX.openapi,
)
def put_preferences(request: Request, principal: Owner, body: PreferencesBody) -> JsonResponse:
    platform = platform_of(request)
    zone_named(body.timezone)
    preferences = Preferences(
        account_id=principal.account_id,
        locale=check_locale(body.locale),
        channels=parse_channels(body.channels),
        quiet_hours=None
        if body.quiet_hours in (None, "")
        else QuietHours.parse(str(body.quiet_hours), body.timezone),
        timezone=body.timezone,
        phone=check_phone(body.phone),
        email=check_email(body.email),
    )
    with platform.store.begin() as conn:
        actions.save_preferences(conn, preferences, platform.clock.now())
    return JsonResponse(preferences.to_json())


def _event(name: str, data: Any, event_id: int | None = None) -> bytes:
    head = b"" if event_id is None else b"id: %d\n" % event_id
    return head + b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("Last-Event-ID must be a message id", part="last-event-id") from None


async def _stream(
    platform: Platform, runtime: NotifyRuntime, account_id: int, resume_after: int | None
) -> AsyncIterator[bytes]:
    def catch_up() -> tuple[dict[str, int], list[InboxMessage]]:
        with platform.store.connect() as conn:
            missed = (
                []
                if resume_after is None
                else queries.messages_after(conn, account_id, resume_after)
            )
            return queries.unread_counts(conn, account_id), missed

    # Listen before reading, so a message committed in between is not lost (at worst
    # it arrives twice; pages deduplicate on the event id).
    async with runtime.feed.listen(account_id) as listener:
        unread, missed = await run_in_threadpool(catch_up)
        yield b"retry: 3000\n" + _event("unread", unread)
        seen = 0
        for message in missed:
            seen = message.id
            yield _event("message", message.to_json(), message.id)
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
            # cancellation that ends this stream when the client goes away.
            try:
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    message = await listener.queue.get()
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            if listener.overflowed:
                listener.overflowed = False
                yield _event("resync", {"reason": "too many messages; reload the inbox"})
            if message.id <= seen:
                continue
            yield _event("message", message.to_json(), message.id)


@router.get(
    "/stream",
    summary="实时推送 New inbox messages as Server-Sent Events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    openapi_extra=OWN_STREAM.openapi,
)
async def stream(
    request: Request,
    principal: Annotated[Principal, Depends(OWN_STREAM)],
    access_token: Annotated[
        str | None, Query(description="for EventSource, which cannot send headers")
    ] = None,
) -> StreamingResponse:
    platform = platform_of(request)
    runtime = runtime_of(request)
    return StreamingResponse(
        _stream(platform, runtime, principal.account_id, _last_event_id(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class SendBody(BaseModel):
    """A message from staff to one account or many."""

    model_config = ConfigDict(extra="forbid")

    account_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    account_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, max_length=MAX_RECIPIENTS
    )
    template: str = Field(min_length=1, max_length=64)
    params: dict[str, str | int] = Field(default_factory=dict)
    category: str | None = None
    link: str | None = None


@router.post(
    "/messages",
    status_code=201,
    summary="发送通知 Staff: send to accounts",
    openapi_extra=SEND.openapi,
)
def send_message(
    request: Request, principal: Annotated[Principal, Depends(SEND)], body: SendBody
) -> JsonResponse:
    if (body.account_id is None) == (body.account_ids is None):
        raise InvalidInput("give exactly one of account_id and account_ids", part="account_id")
    category = _category_or_none(body.category)
    platform = platform_of(request)
    now = platform.clock.now()
    locale = platform.settings.default_locale
    with platform.store.begin() as conn:
        if body.account_id is not None:
            message = actions.notify(
                conn,
                body.account_id,
                body.template,
                body.params,
                category,
                now,
                link=body.link,
                bus=platform.bus,
                default_locale=locale,
            )
            return JsonResponse({"sent": 1, "message": message.to_json()}, status_code=201)
        count = actions.notify_many(
            conn,
            body.account_ids or [],
            body.template,
            body.params,
            category,
            now,
            link=body.link,
            bus=platform.bus,
            default_locale=locale,
            bulk_insert=platform.store.bulk_insert,
        )
    return JsonResponse({"sent": count}, status_code=201)


@router.get(
    "/outbox",
    summary="发件箱 Staff: SMS and e-mail deliveries",
    openapi_extra=READ_OUTBOX.openapi,
)
def get_outbox(
    request: Request,
    principal: Annotated[Principal, Depends(READ_OUTBOX)],
    status: Annotated[str | None, Query(description="pending, sent or failed")] = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JsonResponse:
    with platform_of(request).store.connect() as conn:
        rows = queries.list_outbox(
            conn, status=status, account_id=account_id, limit=limit, offset=offset
        )
    return JsonResponse({"deliveries": [r.to_json() for r in rows]})
