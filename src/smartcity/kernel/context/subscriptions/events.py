"""Events about subscriptions, published after the change commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcity.kernel.bus import Event
from smartcity.kernel.context.subscriptions.model import Subscription


@dataclass(frozen=True)
class SubscriptionChanged(Event):
    """A subscription was created, changed or deleted.

    ``subscription`` is the subscription after the change, ``None`` once deleted. The
    notifier keeps its in-memory copy of every subscription up to date from these, so
    matching never reads the database; they share the ``context.*`` topics with
    :class:`~smartcity.kernel.context.events.EntityChanged` so both reach the notifier
    in publish order.
    """

    topic: ClassVar[str] = "context.subscription_changed"

    tenant: str
    subscription_id: str
    subscription: Subscription | None
