"""The running notification service of an API process: the feed and the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.kernel.bus import Event, Subscription
from smartcity.kernel.notify.dispatcher import (
    Dispatcher,
    policy_from_settings,
    senders_from_settings,
)
from smartcity.kernel.notify.events import MessagesCreated
from smartcity.kernel.notify.feed import InboxFeed
from smartcity.kernel.platform import Platform


@dataclass
class NotifyRuntime:
    """What ``start_notify`` started; ``stop()`` it before the platform stops."""

    feed: InboxFeed
    dispatcher: Dispatcher
    wake_subscription: Subscription | None = None

    async def stop(self) -> None:
        self.feed.detach()
        if self.wake_subscription is not None:
            self.wake_subscription.cancel()
        await self.dispatcher.stop()


async def start_notify(platform: Platform, *, deliver: bool = True) -> NotifyRuntime:
    """Attach the inbox feed to the bus and (with ``deliver``) start the outbox dispatcher.

    New messages committed in this process wake the dispatcher at once, so an SMS that is
    due now does not wait for the next tick; rows from other processes are found by the
    tick (``SMARTCITY_NOTIFY_INTERVAL_MS``).
    """
    feed = InboxFeed()
    feed.attach(platform.bus)
    dispatcher = Dispatcher(
        platform.store,
        platform.clock,
        senders_from_settings(platform.settings),
        policy_from_settings(platform.settings),
        interval=platform.settings.notify_interval,
    )
    runtime = NotifyRuntime(feed, dispatcher)
    if deliver:

        async def wake(_event: Event) -> None:
            dispatcher.wake()

        runtime.wake_subscription = platform.bus.subscribe(
            MessagesCreated.topic, wake, name="notify-outbox-wake"
        )
        dispatcher.start()
    return runtime
