"""Receipts signed in a worker process of their own, so signing never holds the server's GIL.

The server's only part is to note which orders were paid: the ``OrderConfirmed``
handler appends the id to a list, and every ``FLUSH_S`` the list goes down a pipe to
the worker (one small message for a whole group of payments). The worker, started and
stopped by the app's start and stop hooks, opens its own platform on the same store,
renders and signs each batch outside any transaction, then writes the batch's receipts
and notices in one short transaction (``actions.issue_receipts``). What it would have
published (``payment.receipt_issued``, ``notify.messages_created`` for open pages) comes
back up a second pipe and the server publishes it on its own bus, so pages and
subscribers hear of receipts as before.

Nothing is lost if either process dies: the ids are only hints. The worker starts by
sweeping every paid bill without a receipt from the database, and the server starts a
new worker when it finds the old one gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from smartcity.kernel.bus import Event
from smartcity.kernel.bus.collecting import CollectingBus

if TYPE_CHECKING:
    from smartcity.kernel.config import Settings
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)

FLUSH_S = 0.05
BATCH = 32
# While payments pour in, the worker would take CPU and the SQLite write lock from them:
# it gets BUSY_BATCH ids per MAX_DEFERRAL_S then, and the backlog once the peak passes.
BUSY_BATCH = 8
IDLE_BATCH = 64  # per FLUSH_S: up to 1,280 receipts a second when payments pause
MAX_DEFERRAL_S = 1.0
STOP_TIMEOUT_S = 30.0
PROCESS_NAME = "payment-receipt-process"


@dataclass
class ReceiptProcess:
    """The server's end: queues paid order ids, runs the worker, republishes its events."""

    platform: Platform
    _pending: list[int] = field(default_factory=list)
    _process: BaseProcess | None = None
    _orders: multiprocessing.connection.Connection | None = None
    _events: multiprocessing.connection.Connection | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _flush: asyncio.TimerHandle | None = None
    _stopping: bool = False
    _last_sent: float = 0.0
    restarts: int = 0

    async def start(self) -> None:
        """Start the worker (it sweeps paid bills without receipts first)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._spawn()

    def submit(self, order_id: int) -> None:
        """Note a paid order; called on the event loop by the bus handler."""
        if self._stopping:
            return  # the next start's sweep issues it
        self._pending.append(order_id)
        self._schedule()

    async def stop(self) -> None:
        """Let the worker finish what it was handed and wait for it to exit. Ids not
        handed over yet are dropped: the next start's sweep issues their receipts."""
        self._stopping = True
        if self._flush is not None:
            self._flush.cancel()
        self._pending.clear()
        process, orders = self._process, self._orders
        if process is None or orders is None:
            return
        with contextlib.suppress(OSError):  # the worker may be gone already
            orders.send(None)
        await asyncio.to_thread(process.join, STOP_TIMEOUT_S)
        if process.is_alive():
            log.warning("the receipt process did not stop within %.0f s", STOP_TIMEOUT_S)
            process.terminate()
            await asyncio.to_thread(process.join, 5)
        self._receive()  # what it published on its way out
        self._close()

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        # The very store the server uses (a test's or a command's may not be the default).
        url = self.platform.store.engine.url.render_as_string(hide_password=False)
        settings = dataclasses.replace(self.platform.settings, database_url=url)
        orders_out, orders_in = context.Pipe(duplex=False)
        events_out, events_in = context.Pipe(duplex=False)
        process = context.Process(
            target=run_worker,
            args=(settings, orders_out, events_in),
            name=PROCESS_NAME,
            daemon=True,
        )
        process.start()
        # The worker's ends belong to it now.
        orders_out.close()
        events_in.close()
        self._process, self._orders, self._events = process, orders_in, events_out
        if self._loop is not None:
            self._loop.add_reader(events_out.fileno(), self._receive)

    def _close(self) -> None:
        if self._events is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._events.fileno())
        for end in (self._orders, self._events):
            if end is not None:
                end.close()
        self._process = self._orders = self._events = None

    def _send(self) -> None:
        self._flush = None
        if not self._pending or self._orders is None:
            return
        now = time.monotonic()
        if not self._stopping and self._payments_arriving():
            if now - self._last_sent < MAX_DEFERRAL_S:
                self._schedule()
                return
            batch, self._pending = self._pending[:BUSY_BATCH], self._pending[BUSY_BATCH:]
        else:
            # A bounded hand-over per flush: should payments resume, the worker is never
            # more than one flush's receipts (a few tens of milliseconds) behind them.
            batch, self._pending = self._pending[:IDLE_BATCH], self._pending[IDLE_BATCH:]
        self._last_sent = now
        if self._process is not None and not self._process.is_alive() and not self._stopping:
            log.warning("the receipt process died; starting another (it sweeps what was missed)")
            self._close()
            self.restarts += 1
            self._spawn()
            self._pending.clear()  # the new worker's sweep finds them all
            return
        try:
            self._orders.send(batch)
        except OSError:
            log.warning("could not hand %d paid orders to the receipt process", len(batch))
        if self._pending:
            self._schedule()

    def _schedule(self) -> None:
        if self._flush is None and self._loop is not None and not self._loop.is_closed():
            self._flush = self._loop.call_later(FLUSH_S, self._send)

    def _payments_arriving(self) -> bool:
        from smartcity.apps.payment.actions import runtime_of

        committer = runtime_of(self.platform).committer
        return committer is not None and committer.busy()

    def _receive(self) -> None:
        events = self._events
        if events is None:
            return
        bus = self.platform.bus
        try:
            while events.poll():
                for event in events.recv():
                    bus.publish(event)
        except (EOFError, OSError):
            # The worker exited: stop listening; the next flush notices and restarts it.
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(events.fileno())


# --- the worker process --------------------------------------------------------------


def run_worker(
    settings: Settings,
    orders: multiprocessing.connection.Connection,
    events: multiprocessing.connection.Connection,
) -> None:
    """The worker's main: sweep, then issue receipts for the ids the server sends."""
    from smartcity.apps import payment
    from smartcity.apps.payment import actions
    from smartcity.apps.payment.storage import confirmed_without_receipt
    from smartcity.kernel.platform import Platform

    bus = CollectingBus()
    platform = Platform.open(settings, apps=[payment.APP], bus=bus, migrate=False)
    signer = actions.runtime_of(platform).signer

    def issue(batch: Sequence[int]) -> None:
        for start in range(0, len(batch), BATCH):
            chunk = batch[start : start + BATCH]
            try:
                actions.issue_receipts(platform, chunk, publish=publish)
            except IntegrityError:
                # One was issued on demand meanwhile: the rest one by one.
                for order_id in chunk:
                    try:
                        actions.issue_receipt(platform, order_id)
                    except Exception:
                        log.exception("could not issue the receipt of order %d", order_id)
            except Exception:
                log.exception("could not issue %d receipts; the next sweep retries", len(batch))
            if sent := bus.take():
                events.send(sent)

    def publish(published: Sequence[Event]) -> None:
        bus.events.extend(published)

    try:
        if signer is not None:
            signer.prepare()
        while True:
            with platform.store.connect() as conn:
                missed = confirmed_without_receipt(conn, limit=10_000)
            if not missed:
                break
            issue(missed)
            if len(missed) < 10_000:
                break
        stopping = False
        while not stopping:
            batch: list[int] = []
            message: Any = orders.recv()
            while True:
                if message is None:
                    stopping = True
                else:
                    batch.extend(message)
                if stopping or len(batch) >= BATCH or not orders.poll():
                    break
                message = orders.recv()
            if batch:
                issue(batch)
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the server went away; the next worker's sweep finishes the job
    finally:
        platform.store.close()
        events.close()
