"""The expiry timer: closes bank orders past their deadline while the server runs.

A bank order the bank never answers holds its bill (and a pending ledger transfer)
until it expires. ``smartcity payment expire`` closes such orders; the timer runs the
same action every ``SMARTCITY_PAYMENT_EXPIRE_EVERY`` seconds (default 60, ``0`` turns it
off) so nobody has to schedule the command. It is an asyncio task on the server's event
loop, started by the app's start hook and cancelled by its stop hook; the action itself
runs in a worker thread so a slow sweep never stalls requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)


@dataclass
class ExpiryTimer:
    """Runs ``expire_orders`` every ``every_s`` seconds between ``start`` and ``stop``."""

    platform: Platform
    every_s: float
    sweeps: int = 0
    expired: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _stopping: bool = field(default=False, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Start the timer on the running event loop (the first sweep comes at once)."""
        if self._task is None:
            self._stopping = False
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._run(), name="payment-expiry")

    async def stop(self) -> None:
        """Stop the timer: a sweep under way finishes its transaction first, so nothing
        writes to the store once the platform has stopped."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        await task

    def poke(self) -> None:
        """Sweep now rather than at the next tick; callable from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        from smartcity.apps.payment.actions import expire_orders

        while not self._stopping:
            try:
                count = await asyncio.to_thread(expire_orders, self.platform)
            except Exception:
                log.exception("the expiry sweep failed; it runs again at the next tick")
                count = 0
            self.sweeps += 1
            self.expired += count
            if count:
                log.info("expired %d bank order(s) past their deadline", count)
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.every_s)
            self._wake.clear()
