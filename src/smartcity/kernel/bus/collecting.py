"""A bus that delivers nothing: it keeps what is published for someone else to publish.

Worker processes (payment's receipt worker, the MQTT write worker) run kernel code that
publishes events after its commits, but their events must reach the subscribers of the
server process's bus. Their bus collects the events; the worker sends them up its pipe
and the server publishes them there. Nobody is subscribed inside a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smartcity.kernel.bus.base import Accepts, Event, Handler, Subscription


@dataclass(frozen=True)
class _Unsubscribed:
    """What ``subscribe`` gives back: a subscription that never delivers."""

    name: str

    def cancel(self) -> None:
        """Nothing to stop."""


@dataclass
class CollectingBus:
    """``publish`` keeps the event in ``events``; ``subscribe`` delivers nothing."""

    events: list[Event] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""

    def publish(self, event: Event) -> None:
        """Keep the event for the process that publishes it."""
        self.events.append(event)

    def subscribe(
        self,
        pattern: str,
        handler: Handler,
        *,
        name: str | None = None,
        accepts: Accepts | None = None,
    ) -> Subscription:
        """Accepted and never delivered: the server process's bus has the subscribers."""
        return _Unsubscribed(name or pattern)

    async def drain(self) -> None:
        """Nothing is queued."""

    def take(self) -> list[Event]:
        """The events kept so far, forgetting them."""
        events, self.events = self.events, []
        return events
