"""The running notification service of an API process: the feed and the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.kernel.notify.dispatcher import (
    Dispatcher,
    policy_from_settings,
    senders_from_settings,
)
from smartcity.kernel.notify.feed import InboxFeed
from smartcity.kernel.platform import Platform


@dataclass
class NotifyRuntime:
    """What ``start_notify`` started; ``stop()`` it before the platform stops."""

    feed: InboxFeed
    dispatcher: Dispatcher

    async def stop(self) -> None:
        self.feed.detach()
        await self.dispatcher.stop()


async def start_notify(platform: Platform, *, deliver: bool = True) -> NotifyRuntime:
    """Attach the inbox feed to the bus and (with ``deliver``) start the outbox dispatcher."""
    feed = InboxFeed()
    feed.attach(platform.bus)
    dispatcher = Dispatcher(
        platform.store,
        platform.clock,
        senders_from_settings(platform.settings),
        policy_from_settings(platform.settings),
        interval=platform.settings.notify_interval,
    )
    if deliver:
        dispatcher.start()
    return NotifyRuntime(feed, dispatcher)
