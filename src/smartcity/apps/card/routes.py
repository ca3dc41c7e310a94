"""HTTP of the citizen card app under ``/api/card``: thin, every check beside its route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from starlette.concurrency import run_in_threadpool

from smartcity.api.dependencies import get_platform
from smartcity.apps.card import actions, storage, taps
from smartcity.apps.card.batcher import TapBatcher
from smartcity.apps.card.fast_path import TapFastPath
from smartcity.apps.card.models import (
    BatchRequest,
    BatchView,
    CardFunction,
    CardView,
    DenyListView,
    FunctionRequest,
    IssueRequest,
    LossRequest,
    MovementView,
    TapOutcome,
    TapRequest,
    TapView,
    TokenView,
    TopUpRequest,
)
from smartcity.apps.card.numbers import check_number
from smartcity.apps.card.permissions import HOLD, MANAGE, TERMINAL, holder_of, terminal_of
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.platform import Platform

router = APIRouter(prefix="/api/card", tags=["市民卡 Citizen card"])
# Installed by the ASGI assembly in front of routing: live taps skip it.
fast_path = TapFastPath

PlatformDependency = Annotated[Platform, Depends(get_platform)]
Holder = Annotated[Principal, Depends(HOLD)]
Manager = Annotated[Principal, Depends(MANAGE)]
Terminal = Annotated[Principal, Depends(TERMINAL)]
CardNumber = Annotated[str, Path(min_length=16, max_length=16, pattern=r"^[0-9]{16}$")]
Limit = Annotated[int, Query(ge=1, le=storage.PAGE_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


# --- the card service centre ---------------------------------------------------------


@router.post(
    "/cards",
    summary="发卡 Issue a card to a citizen",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=MANAGE.openapi,
)
def issue_card(body: IssueRequest, platform: PlatformDependency, _: Manager) -> CardView:
    """A new card, every function enabled; 409 when the citizen holds one already."""
    return actions.issue_card(platform, body.national_id)


@router.get("/cards/{number}", summary="卡片 One card", openapi_extra=MANAGE.openapi)
def get_card(number: CardNumber, platform: PlatformDependency, _: Manager) -> CardView:
    with platform.store.connect() as conn:
        return storage.card_view(
            conn, storage.card_row(conn, check_number(number)), platform.clock.now()
        )


@router.post(
    "/cards/{number}/report-loss",
    summary="挂失 Report a card lost (service centre)",
    openapi_extra=MANAGE.openapi,
)
def report_loss(
    number: CardNumber, body: LossRequest, platform: PlatformDependency, _: Manager
) -> CardView:
    return actions.report_loss(platform, check_number(number), body.reason)


@router.post(
    "/cards/{number}/reissue",
    summary="补卡 Reissue a card (balances move to the new one)",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=MANAGE.openapi,
)
def reissue(number: CardNumber, platform: PlatformDependency, _: Manager) -> CardView:
    return actions.reissue(platform, check_number(number))


@router.put(
    "/cards/{number}/functions/{function}",
    summary="开通/关闭功能 Enable or disable a function",
    openapi_extra=MANAGE.openapi,
)
def set_function(
    number: CardNumber,
    function: CardFunction,
    body: FunctionRequest,
    platform: PlatformDependency,
    _: Manager,
) -> CardView:
    return actions.set_function(platform, check_number(number), function, body.enabled)


@router.get(
    "/conflicts",
    summary="待清分冲突 Offline taps in conflict (for settlement)",
    openapi_extra=MANAGE.openapi,
)
def conflicts(
    platform: PlatformDependency,
    _: Manager,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Limit = 100,
) -> list[TapView]:
    with platform.store.connect() as conn:
        return storage.conflicts(conn, after_id=after_id, limit=limit)


# --- the holder ---------------------------------------------------------------------


@router.get("/mine", summary="我的市民卡 My card", openapi_extra=HOLD.openapi)
def my_card(platform: PlatformDependency, principal: Holder) -> CardView:
    """My current card: status, functions, purses and today's transit spending."""
    national_id = holder_of(principal)
    with platform.store.connect() as conn:
        return storage.card_view(
            conn, storage.current_card_row(conn, national_id), platform.clock.now()
        )


@router.get("/mine/movements", summary="收支明细 My card's movements", openapi_extra=HOLD.openapi)
def my_movements(
    platform: PlatformDependency, principal: Holder, limit: Limit = 50, offset: Offset = 0
) -> list[MovementView]:
    """Taps, top-ups and reissue transfers of all my cards, newest first."""
    national_id = holder_of(principal)
    with platform.store.connect() as conn:
        return storage.movements_of(conn, national_id, limit=limit, offset=offset)


@router.post("/mine/top-ups", summary="充值 Top up from my wallet", openapi_extra=HOLD.openapi)
def my_top_up(body: TopUpRequest, platform: PlatformDependency, principal: Holder) -> MovementView:
    """From my platform wallet into a purse; the same ``request_id`` again is a retry."""
    return actions.top_up(platform, holder_of(principal), body)


@router.post("/mine/report-loss", summary="挂失 Report my card lost", openapi_extra=HOLD.openapi)
def my_report_loss(body: LossRequest, platform: PlatformDependency, principal: Holder) -> CardView:
    """Frozen at once and put on the deny list; the balance waits for the reissue."""
    national_id = holder_of(principal)
    with platform.store.connect() as conn:
        number = str(storage.current_card_row(conn, national_id).number)
    return actions.report_loss(platform, number, body.reason)


@router.post(
    "/mine/reissue",
    summary="补卡 Reissue my card",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=HOLD.openapi,
)
def my_reissue(platform: PlatformDependency, principal: Holder) -> CardView:
    national_id = holder_of(principal)
    with platform.store.connect() as conn:
        number = str(storage.current_card_row(conn, national_id).number)
    return actions.reissue(platform, number)


@router.put(
    "/mine/functions/{function}",
    summary="开通/关闭功能 Enable or disable a function of my card",
    openapi_extra=HOLD.openapi,
)
def my_function(
    function: CardFunction, body: FunctionRequest, platform: PlatformDependency, principal: Holder
) -> CardView:
    national_id = holder_of(principal)
    with platform.store.connect() as conn:
        number = str(storage.current_card_row(conn, national_id).number)
    return actions.set_function(platform, number, function, body.enabled)


@router.get("/mine/tokens", summary="手机卡 My phone NFC tokens", openapi_extra=HOLD.openapi)
def my_tokens(platform: PlatformDependency, principal: Holder) -> list[TokenView]:
    national_id = holder_of(principal)
    with platform.store.connect() as conn:
        number = str(storage.current_card_row(conn, national_id).number)
        return storage.tokens_of(conn, number)


@router.post(
    "/mine/tokens",
    summary="绑定手机 Issue a phone NFC token",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=HOLD.openapi,
)
def my_new_token(platform: PlatformDependency, principal: Holder) -> TokenView:
    """The token is shown in this answer only; the platform keeps its digest."""
    return actions.issue_token(platform, holder_of(principal))


@router.delete(
    "/mine/tokens/{token_id}", summary="解绑手机 Revoke a phone token", openapi_extra=HOLD.openapi
)
def my_revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    platform: PlatformDependency,
    principal: Holder,
) -> TokenView:
    return actions.revoke_token(platform, holder_of(principal), token_id)


# --- terminals ----------------------------------------------------------------------


@router.post("/taps", summary="刷卡授权 Authorise a tap", openapi_extra=TERMINAL.openapi)
async def tap(body: TapRequest, platform: PlatformDependency, principal: Terminal) -> TapView:
    """Approve or decline (with a reason code); the same ``transaction_id`` is a retry."""
    return await platform.state("card", TapBatcher).tap(terminal_of(principal), body)


@router.post(
    "/taps/batch",
    summary="脱机上传 Upload an offline terminal's taps",
    openapi_extra=TERMINAL.openapi,
)
async def tap_batch(
    body: BatchRequest, platform: PlatformDependency, principal: Terminal
) -> BatchView:
    """Up to 100,000 taps; taps sent before are duplicates, the rest approved or in conflict."""
    terminal_id = terminal_of(principal)
    now = platform.clock.now()

    def work() -> taps.Decided:
        with platform.store.begin() as conn:
            return taps.decide(
                conn, terminal_id, body.taps, now, offline=True, store=platform.store
            )

    decided = await run_in_threadpool(work)
    return BatchView(
        received=len(body.taps),
        approved=decided.count(TapOutcome.APPROVED),
        declined=decided.count(TapOutcome.DECLINED),
        conflicts=decided.count(TapOutcome.CONFLICT),
        duplicates=len(decided.duplicates),
    )


@router.get(
    "/deny-list", summary="黑名单 The deny list, incremental", openapi_extra=TERMINAL.openapi
)
def deny_list(
    platform: PlatformDependency,
    _: Terminal,
    since: Annotated[int, Query(ge=0, description="the version the terminal holds")] = 0,
) -> DenyListView:
    with platform.store.connect() as conn:
        return storage.deny_list(conn, since)


# A full offline batch (MAX_BATCH taps, about 160 bytes each in JSON) is ~16 MB: the
# upload route gets room for it; every other route keeps the platform's body limit.
BATCH_BODY_BYTES = 32 * 1024 * 1024


def body_limits(platform: Platform) -> dict[str, int]:
    """The offline batch upload may exceed the platform's body limit (up to 32 MiB)."""
    return {"/api/card/taps/batch": BATCH_BODY_BYTES}
