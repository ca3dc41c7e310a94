"""Receipts signed in the background, in batches, as bills are paid.

A paid bill's order id is queued when its ``OrderConfirmed`` event arrives; one thread
takes whatever is waiting (up to ``BATCH``) and issues those receipts in one
transaction. One writer and one commit per batch keep receipts from competing with the
payments themselves for the database. Nothing is lost if the process dies with ids in
the queue: ``issue_pending_receipts`` (run at start and by ``smartcity payment
receipts``) finds paid bills without a receipt, and asking for a receipt issues it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from smartcity.apps.payment import actions
from smartcity.apps.payment.receipts import ReceiptSigner
from smartcity.kernel.bus import Event

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)

BATCH = 64
# Small enough that a payment group never waits long behind a batch of receipts.
BUSY_BATCH = 4
MAX_DEFERRAL_S = 1.0
IDLE_SECONDS = 5.0
_WAKE = -1  # put on the queue by stop() so an idle thread notices at once


@dataclass
class ReceiptWorker:
    platform: Platform
    _queue: queue.SimpleQueue[int] = field(default_factory=queue.SimpleQueue)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _warming: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    def _publish(self, events: Sequence[Event]) -> None:
        """Publish a batch's events with one hop to the event loop, not one per event."""
        loop = self._loop
        if loop is None or loop.is_closed():
            for event in events:
                self.platform.bus.publish(event)
            return
        bus = self.platform.bus

        def publish_all() -> None:
            for event in events:
                bus.publish(event)

        loop.call_soon_threadsafe(publish_all)

    def warm_up(self, signer: ReceiptSigner | None) -> None:
        """Load the signing key now, in the background: decrypting it takes long enough
        that doing so under the first paid bills would stall them."""
        if signer is None:
            return

        def prepare() -> None:
            try:
                signer.prepare()
            except Exception:
                log.exception("the receipt signer is not ready; receipts will retry it")

        self._warming = threading.Thread(target=prepare, name="payment-receipt-signer", daemon=True)
        self._warming.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the batch in hand and the signer's warm-up, then stop (blocking).

        Receipts still queued stay missing until the next start sweeps them up, so
        nothing writes to the store once the platform has stopped.
        """
        self._stopping.set()
        self._queue.put(_WAKE)
        for thread in (self._warming, self._thread):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=timeout_s)
                if thread.is_alive():
                    log.warning("%s did not stop within %.0f s", thread.name, timeout_s)

    def submit(self, order_id: int) -> None:
        """Queue a paid order's receipt; called on the event loop (by the bus handler)."""
        self._loop = asyncio.get_running_loop()
        self._queue.put(order_id)
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="payment-receipts", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            if self._stopping.is_set():
                return
            # While payments pour in, a few receipts a second; the whole backlog once idle.
            size = BUSY_BATCH if self._yield_to_payments() else BATCH
            batch = [first]
            while len(batch) < size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with actions.runtime_of(self.platform).writer_lock:
                    actions.issue_receipts(self.platform, batch, publish=self._publish)
            except IntegrityError:
                # One was issued on demand meanwhile: the rest one by one.
                self._issue_one_by_one(batch)
            except Exception:
                # The receipts stay missing until asked for or swept; payments are unaffected.
                log.exception("could not issue %d receipts", len(batch))

    def _yield_to_payments(self) -> bool:
        """Wait while payments pour in (receipts share the process and the database
        with them), but at most ``MAX_DEFERRAL_S``; True if payments are still arriving.
        Under a sustained peak receipts go on at ``BUSY_BATCH`` a second and catch up
        when it passes."""
        committer = actions.runtime_of(self.platform).committer
        if committer is None:
            return False
        deadline = time.monotonic() + MAX_DEFERRAL_S
        while committer.busy():
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.02)
        return False

    def _issue_one_by_one(self, order_ids: list[int]) -> None:
        for order_id in order_ids:
            try:
                actions.issue_receipt(self.platform, order_id)
            except Exception:
                log.exception("could not issue the receipt of order %d", order_id)
