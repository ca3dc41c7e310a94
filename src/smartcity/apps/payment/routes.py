"""HTTP of the payment app under ``/payment``: thin, every check declared beside its route."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, status
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from smartcity.api.dependencies import get_platform
from smartcity.api.permissions import public
from smartcity.apps.payment import actions, postings, storage
from smartcity.apps.payment.fast_path import WalletPaymentFastPath
from smartcity.apps.payment.models import (
    BillerView,
    BillRequest,
    BillStatus,
    BillView,
    OrderView,
    PaymentMethod,
    PayRequest,
    PreferenceRequest,
    PreferenceView,
    ReceiptView,
    TopUpRequest,
    WalletView,
)
from smartcity.apps.payment.permissions import ISSUE, PAY, RECONCILE, check_issuer, payer_of
from smartcity.apps.payment.reconciliation import ReconciliationReport, reconcile_day
from smartcity.kernel.errors import NotFound
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.platform import Platform

router = APIRouter(prefix="/payment", tags=["payment"])
# Installed by the ASGI assembly in front of routing: wallet payments skip it.
fast_path = WalletPaymentFastPath

PlatformDependency = Annotated[Platform, Depends(get_platform)]
PayerPrincipal = Annotated[Principal, Depends(PAY)]
Issuer = Annotated[Principal, Depends(ISSUE)]
Reconciler = Annotated[Principal, Depends(RECONCILE)]
Limit = Annotated[int, Query(ge=1, le=storage.PAGE_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

CALLBACK_PATH = "/payment/bank/callback"


def _callback_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + CALLBACK_PATH


@router.get(
    "/billers",
    summary="收费单位 Billers",
    openapi_extra=public("the list of billers is public information"),
)
def billers(platform: PlatformDependency) -> list[BillerView]:
    """Every biller the platform collects for."""
    with platform.store.connect() as conn:
        return storage.list_billers(conn)


@router.post(
    "/billers/{biller_code}/bills",
    summary="开具账单 A biller issues a bill",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "the same bill number was issued before (a retry)"}},
    openapi_extra=ISSUE.openapi,
)
def issue_bill(
    biller_code: Annotated[str, Path(max_length=32)],
    body: BillRequest,
    platform: PlatformDependency,
    principal: Issuer,
) -> Response:
    """Issue a bill to a citizen or an enterprise (idempotent by the bill number)."""
    with platform.store.connect() as conn:
        biller = storage.get_biller(conn, biller_code)
    check_issuer(principal, biller)
    bill, created = actions.issue_bill(platform, biller_code, body)
    return JSONResponse(
        bill.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@router.get("/bills", summary="我的账单 My bills (and their history)", openapi_extra=PAY.openapi)
def my_bills(
    platform: PlatformDependency,
    principal: PayerPrincipal,
    status: Annotated[BillStatus | None, Query(description="open | pending | paid")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[BillView]:
    """The caller's bills, newest first; ``status=paid`` is the payment history."""
    payer = payer_of(principal)
    with platform.store.connect() as conn:
        return storage.bills_of(conn, payer, status=status, limit=limit, offset=offset)


@router.get("/bills/{bill_id}", summary="账单 One of my bills", openapi_extra=PAY.openapi)
def my_bill(bill_id: int, platform: PlatformDependency, principal: PayerPrincipal) -> BillView:
    payer = payer_of(principal)
    with platform.store.connect() as conn:
        return storage.bill_of_payer(conn, payer, bill_id)


@router.post(
    "/bills/{bill_id}/pay",
    summary="缴费 Pay one of my bills",
    response_model=OrderView,
    openapi_extra=PAY.openapi,
)
async def pay_bill(
    bill_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: PayRequest,
    request: Request,
    platform: PlatformDependency,
    principal: PayerPrincipal,
) -> Response:
    """From the wallet (confirmed at once) or through the bank (pending until it answers).

    Send the same ``request_id`` again after a lost answer: the answer is the same order.
    """
    payer = payer_of(principal)
    committer = actions.runtime_of(platform).committer
    if body.method == PaymentMethod.WALLET and committer is not None:
        # The hot path: grouped with the other wallet payments arriving now.
        order = await committer.pay(payer, bill_id, body.request_id)
    else:
        order = await run_in_threadpool(
            actions.pay_bill,
            platform,
            payer,
            bill_id,
            body.request_id,
            body.method,
            callback_url=_callback_url(request),
        )
    return Response(order.model_dump_json().encode(), media_type="application/json")


@router.get("/orders", summary="我的支付 My payment orders", openapi_extra=PAY.openapi)
def my_orders(
    platform: PlatformDependency,
    principal: PayerPrincipal,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[OrderView]:
    payer = payer_of(principal)
    runtime = actions.runtime_of(platform)
    bank_url = runtime.gateway.base_url if runtime.gateway else None
    with platform.store.connect() as conn:
        rows = storage.orders_of(conn, payer, limit=limit, offset=offset)
    return [storage.order_of(r, bank_url=bank_url) for r in rows]


@router.get(
    "/orders/{order_id}", summary="支付状态 Status of one of my payments", openapi_extra=PAY.openapi
)
def my_order(order_id: int, platform: PlatformDependency, principal: PayerPrincipal) -> OrderView:
    payer = payer_of(principal)
    runtime = actions.runtime_of(platform)
    bank_url = runtime.gateway.base_url if runtime.gateway else None
    with platform.store.connect() as conn:
        return storage.order_of(storage.order_of_payer(conn, payer, order_id), bank_url=bank_url)


def _receipt_of(platform: Platform, principal: Principal, bill_id: int) -> ReceiptView:
    payer = payer_of(principal)
    with platform.store.connect() as conn:
        bill = storage.bill_of_payer(conn, payer, bill_id)
    if bill.order_id is None or bill.status != BillStatus.PAID:
        raise NotFound(f"bill {bill_id} is not paid, so it has no receipt", bill=bill_id)
    row = actions.issue_receipt(platform, bill.order_id)
    return ReceiptView(
        number=row.number,
        order_id=row.order_id,
        bill_id=row.bill_id,
        issued_at=storage.aware(row.issued_at) or row.issued_at,
        document=orjson.loads(row.document),
        signed=row.signature is not None,
        signature_url=f"/payment/bills/{bill_id}/receipt.p7s" if row.signature else None,
    )


@router.get(
    "/bills/{bill_id}/receipt",
    summary="电子回单 The e-receipt of a paid bill",
    openapi_extra=PAY.openapi,
)
def receipt(bill_id: int, platform: PlatformDependency, principal: PayerPrincipal) -> ReceiptView:
    """The receipt as JSON; ``receipt.json`` gives the exact signed bytes."""
    return _receipt_of(platform, principal, bill_id)


@router.get(
    "/bills/{bill_id}/receipt.json",
    summary="电子回单原文 The exact signed bytes of the receipt",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
    openapi_extra=PAY.openapi,
)
def receipt_document(
    bill_id: int, platform: PlatformDependency, principal: PayerPrincipal
) -> Response:
    view = _receipt_of(platform, principal, bill_id)
    with platform.store.connect() as conn:
        row = storage.receipt_row(conn, view.order_id)
    if row is None:
        raise NotFound(f"bill {bill_id} has no receipt", bill=bill_id)
    return Response(row.document.encode("utf-8"), media_type="application/json")


@router.get(
    "/bills/{bill_id}/receipt.p7s",
    summary="电子回单签名 Detached CMS signature of the receipt (DER)",
    response_class=Response,
    responses={200: {"content": {"application/pkcs7-signature": {}}}},
    openapi_extra=PAY.openapi,
)
def receipt_signature(
    bill_id: int, platform: PlatformDependency, principal: PayerPrincipal
) -> Response:
    view = _receipt_of(platform, principal, bill_id)
    with platform.store.connect() as conn:
        row = storage.receipt_row(conn, view.order_id)
    if row is None or row.signature is None:
        raise NotFound(f"the receipt of bill {bill_id} is not signed yet", bill=bill_id)
    return Response(
        bytes(row.signature),
        media_type="application/pkcs7-signature",
        headers={"content-disposition": f'attachment; filename="{row.number}.p7s"'},
    )


@router.get("/wallet", summary="钱包余额 My wallet", openapi_extra=PAY.openapi)
def wallet(platform: PlatformDependency, principal: PayerPrincipal) -> WalletView:
    payer = payer_of(principal)
    account_id = postings.wallet_account_id(payer.kind.value, payer.identifier)
    with platform.store.connect() as conn:
        found = postings.balances(conn, [account_id]).get(account_id)
    if found is None:
        return WalletView(account_id=account_id, balance_fen=0, available_fen=0, incoming_fen=0)
    return WalletView(
        account_id=account_id,
        balance_fen=found.balance,
        available_fen=found.available,
        incoming_fen=found.credits_pending,
    )


@router.post(
    "/wallet/top-ups", summary="充值 Top up my wallet through the bank", openapi_extra=PAY.openapi
)
def top_up(
    body: TopUpRequest, request: Request, platform: PlatformDependency, principal: PayerPrincipal
) -> OrderView:
    payer = payer_of(principal)
    return actions.top_up(platform, payer, body, callback_url=_callback_url(request))


@router.get("/preferences", summary="电子账单偏好 My e-bill preference", openapi_extra=PAY.openapi)
def preferences(platform: PlatformDependency, principal: PayerPrincipal) -> PreferenceView:
    return actions.preference_of(platform, payer_of(principal))


@router.put(
    "/preferences", summary="设置电子账单偏好 Choose paperless e-bills", openapi_extra=PAY.openapi
)
def set_preferences(
    body: PreferenceRequest, platform: PlatformDependency, principal: PayerPrincipal
) -> PreferenceView:
    return actions.set_paperless(platform, payer_of(principal), body.paperless)


@router.post(
    CALLBACK_PATH.removeprefix("/payment"),
    summary="银行回调 The bank's signed outcome of a payment order",
    responses={401: {"description": "the signature does not verify"}},
    openapi_extra=public("called by the bank; authenticated by its HMAC signature"),
)
async def bank_callback(request: Request, platform: PlatformDependency) -> OrderView:
    """Called by the bank, not by people: HMAC-signed (see docs/apps/payment.md)."""
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    return await run_in_threadpool(actions.handle_bank_callback, platform, headers, body)


@router.get(
    "/reconciliation",
    summary="日对账 Daily reconciliation per biller",
    openapi_extra=RECONCILE.openapi,
)
def reconciliation(
    platform: PlatformDependency,
    principal: Reconciler,
    date: Annotated[dt.date, Query(description="business day (Asia/Shanghai), YYYY-MM-DD")],
) -> ReconciliationReport:
    with platform.store.connect() as conn:
        return reconcile_day(conn, date)


@router.post(
    "/settlements",
    summary="日结 Settle an ended business day to the billers",
    openapi_extra=RECONCILE.openapi,
)
def settle(
    platform: PlatformDependency,
    principal: Reconciler,
    date: Annotated[dt.date, Query(description="business day (Asia/Shanghai), YYYY-MM-DD")],
) -> list[dict[str, object]]:
    return actions.settle_day(platform, date)
