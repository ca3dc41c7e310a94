"""Bus protocol and the event base type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from smartcity.kernel.errors import ConfigurationError


@dataclass(frozen=True)
class Event:
    """Base of every event. Subclasses are frozen dataclasses and set ``topic``."""

    topic: ClassVar[str] = ""


Handler = Callable[[Event], Awaitable[None]]
# Whether a subscriber wants an event at all (see ``Bus.subscribe``).
Accepts = Callable[[Event], bool]


class Subscription(Protocol):
    """A live subscription; ``cancel()`` stops delivery."""

    @property
    def name(self) -> str: ...

    def cancel(self) -> None: ...


class Bus(Protocol):
    """Publish/subscribe between the kernel and apps."""

    async def start(self) -> None:
        """Begin delivering events."""
        ...

    async def stop(self) -> None:
        """Deliver what is queued, then stop."""
        ...

    def publish(self, event: Event) -> None:
        """Queue ``event`` for every matching subscriber; never blocks on subscribers."""
        ...

    def subscribe(
        self,
        pattern: str,
        handler: Handler,
        *,
        name: str | None = None,
        accepts: Accepts | None = None,
    ) -> Subscription:
        """Deliver events whose topic matches ``pattern`` (exact, ``area.*`` or ``*``).

        ``accepts``, if given, is asked about each matching event as it is routed, in
        publication order; the bus may leave out an event it refuses (a subscriber with
        nothing to do for most events saves their queueing and hand-over). A bus may
        also ignore it and deliver everything: the handler must not rely on it.
        """
        ...

    async def drain(self) -> None:
        """Wait until every queued event has been handled (or given up on)."""
        ...


def open_bus(url: str) -> Bus:
    """The bus for a URL: ``local`` (in-process) is the only one so far."""
    if url == "local":
        from smartcity.kernel.bus.local import LocalBus

        return LocalBus()
    raise ConfigurationError(f"unsupported bus {url!r}: only 'local' is available")
