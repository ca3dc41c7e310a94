"""In-process fan-out of new inbox messages to open pages (the SSE stream).

The feed subscribes to ``notify.messages_created`` on the platform bus and hands each
message to the queues of its account's open streams. It only sees events published in
this process: with several ``smartcity serve`` workers, a page connected to worker A
hears of a message written by worker B only when the bus crosses processes (NATS), so
run the distributed bus before running more than one worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from smartcity.kernel.bus import Bus, Event, Subscription
from smartcity.kernel.notify.events import MessagesCreated
from smartcity.kernel.notify.models import InboxMessage

log = logging.getLogger(__name__)

# Messages waiting for one slow page; past this the page is told to reload its inbox.
QUEUE_SIZE = 256


class Listener:
    """One open stream of one account."""

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.queue: asyncio.Queue[InboxMessage] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, message: InboxMessage) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True


class InboxFeed:
    """Open streams keyed by account; fed by bus events after commit."""

    def __init__(self) -> None:
        self._listeners: dict[int, set[Listener]] = {}
        self._subscription: Subscription | None = None

    def attach(self, bus: Bus) -> None:
        """Start listening to the bus."""
        if self._subscription is None:
            self._subscription = bus.subscribe(
                MessagesCreated.topic, self._handle, name="notify-feed"
            )

    def detach(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None

    @property
    def listener_count(self) -> int:
        return sum(len(group) for group in self._listeners.values())

    async def _handle(self, event: Event) -> None:
        if isinstance(event, MessagesCreated):
            self.publish(event.messages)

    def publish(self, messages: tuple[InboxMessage, ...]) -> None:
        """Hand each message to its account's open streams (call on the event loop)."""
        if not self._listeners:
            return
        for message in messages:
            group = self._listeners.get(message.account_id)
            if group:
                for listener in group:
                    listener.offer(message)

    @asynccontextmanager
    async def listen(self, account_id: int) -> AsyncIterator[Listener]:
        """An open stream for ``account_id`` while the context lasts."""
        listener = Listener(account_id)
        self._listeners.setdefault(account_id, set()).add(listener)
        try:
            yield listener
        finally:
            group = self._listeners.get(account_id)
            if group is not None:
                group.discard(listener)
                if not group:
                    del self._listeners[account_id]
