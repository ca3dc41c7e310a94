"""统一支付与电子账单 Unified payment and e-bills (付费通).

Billers (electricity, water, gas, telecom, medical insurance, traffic fines, taxes)
issue bills to citizens and enterprises; payers pay them from their platform wallet or
through the bank gateway (a pending ledger transfer, posted when the bank's signed
callback confirms, voided when it fails or expires), get a signed e-receipt and a
notification, and every biller's day is settled and reconciled to the fen.
See docs/apps/payment.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from smartcity.kernel.app import App
from smartcity.kernel.bus import Event

if TYPE_CHECKING:
    from smartcity.apps.payment.runtime import PaymentRuntime
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)


def setup(platform: Platform) -> PaymentRuntime:
    """Seed the billers, connect the bank gateway, start issuing receipts as bills are paid."""
    from smartcity.apps.payment import actions
    from smartcity.apps.payment.bank_gateway import BankGateway
    from smartcity.apps.payment.events import OrderConfirmed
    from smartcity.apps.payment.group_commit import GroupCommitter
    from smartcity.apps.payment.receipt_worker import ReceiptWorker
    from smartcity.apps.payment.runtime import PaymentRuntime, PaymentSettings, bank_secret_of
    from smartcity.apps.payment.signing import PlatformReceiptSigner

    settings = PaymentSettings.from_env()
    secret = bank_secret_of(platform.settings.data_dir)
    gateway = BankGateway(settings.bank_url, secret) if settings.bank_url else None
    runtime = PaymentRuntime(settings=settings, bank_secret=secret, gateway=gateway)
    committer = runtime.committer = GroupCommitter(platform)
    runtime.signer = PlatformReceiptSigner(platform)
    actions.ensure_billers(platform.store, platform.clock.now())

    async def stop_committer() -> None:
        await asyncio.to_thread(committer.stop)

    platform.on_stop(stop_committer)
    if settings.expire_every_seconds:
        from smartcity.apps.payment.expiry_timer import ExpiryTimer

        timer = runtime.expiry_timer = ExpiryTimer(platform, settings.expire_every_seconds)
        platform.on_start(timer.start)
        platform.on_stop(timer.stop)
    if settings.receipts == "process":
        from smartcity.apps.payment.receipt_process import ReceiptProcess

        process = ReceiptProcess(platform)

        async def hand_over(event: Event) -> None:
            if isinstance(event, OrderConfirmed) and event.bill_id is not None:
                process.submit(event.order_id)

        platform.bus.subscribe(OrderConfirmed.topic, hand_over, name="payment.receipts")
        platform.on_start(process.start)
        platform.on_stop(process.stop)
    elif settings.receipts == "thread":
        worker = ReceiptWorker(platform)
        signer = runtime.signer

        async def queue_receipt(event: Event) -> None:
            if isinstance(event, OrderConfirmed) and event.bill_id is not None:
                worker.submit(event.order_id)

        async def start_receipts() -> None:
            worker.warm_up(signer)
            # Bills paid while no worker ran (a crash, say) get their receipts now.
            for order_id in await asyncio.to_thread(_unreceipted, platform):
                worker.submit(order_id)

        async def stop_receipts() -> None:
            await asyncio.to_thread(worker.stop)

        platform.bus.subscribe(OrderConfirmed.topic, queue_receipt, name="payment.receipts")
        platform.on_start(start_receipts)
        platform.on_stop(stop_receipts)
    return runtime


def _unreceipted(platform: Platform) -> list[int]:
    from smartcity.apps.payment.storage import confirmed_without_receipt

    with platform.store.connect() as conn:
        return list(confirmed_without_receipt(conn, limit=100_000))


def _seed_demo(platform: Platform, seed: int) -> None:
    from smartcity.apps.payment.sim import seed_demo

    seed_demo(platform, seed)


APP = App(
    name="payment",
    setup=setup,
    table_modules=("smartcity.apps.payment.tables",),
    routes_module="smartcity.apps.payment.routes",
    seed_demo=_seed_demo,
)
