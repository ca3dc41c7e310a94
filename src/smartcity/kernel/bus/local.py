"""The in-process bus: asyncio queues, one worker per subscription.

Every subscription owns an unbounded queue and a worker task. ``publish`` only appends
to the queues of matching subscriptions, so it never waits for a handler, and a slow or
failing subscriber delays nobody but itself. Events reach each subscriber in publish
order (per publishing thread), which gives per-topic ordering.

``publish`` may be called from any thread: FastAPI runs sync routes in a threadpool, so
an action may publish off the event loop. Such calls are handed to the loop with
``call_soon_threadsafe``. Events published before :meth:`LocalBus.start` (or after
:meth:`LocalBus.stop`) wait in a buffer and are delivered on the next start.

A handler that raises is retried with exponential backoff; after the last attempt the
event is recorded as a :class:`DeadLetter` and the subscriber moves on to its next event.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import threading
from collections import deque
from dataclasses import dataclass

from smartcity.kernel.bus.base import Accepts, Event, Handler

log = logging.getLogger(__name__)

# A topic is ``<area>.<name>`` with optional further dotted parts, lower case.
_TOPIC = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_PREFIX = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.\*")


# Event classes that passed ``check_event``, with the topic they had then: a class is
# checked once, not at every publish (a PATCH publishes one event; the checks and the
# topic's regular expression were a fifth of publishing it).
_CHECKED: dict[type, str] = {}


def check_event(event: object) -> Event:
    """Return ``event`` if it can go on the bus, else raise ``TypeError``/``ValueError``.

    An event must be an instance of a frozen dataclass deriving from :class:`Event`
    whose class sets a dotted ``topic`` such as ``hotline.ticket_dispatched``.
    """
    checked = _CHECKED.get(type(event))
    if checked is not None and isinstance(event, Event) and checked == event.topic:
        return event
    if not isinstance(event, Event):
        raise TypeError(
            f"only Event instances can be published, got {type(event).__name__}; "
            "declare events as @dataclass(frozen=True) subclasses of Event"
        )
    kind = type(event)
    params = getattr(kind, "__dataclass_params__", None)
    # Subclassing a frozen dataclass without @dataclass inherits its params but adds
    # fields the dataclass machinery does not know; require the decorator on the class.
    if "__dataclass_params__" not in vars(kind) or params is None or not params.frozen:
        raise TypeError(f"{kind.__name__} must be declared with @dataclass(frozen=True)")
    topic = kind.topic
    if not topic:
        raise ValueError(f"{kind.__name__} has no topic; set `topic: ClassVar[str] = 'area.name'`")
    if not _TOPIC.fullmatch(topic):
        raise ValueError(f"{kind.__name__}.topic {topic!r} is not a dotted lower-case name")
    _CHECKED[kind] = topic
    return event


def check_pattern(pattern: str) -> str:
    """Return ``pattern`` if valid (``area.name``, ``area.*`` or ``*``); else ``ValueError``."""
    if pattern == "*" or _TOPIC.fullmatch(pattern) or _PREFIX.fullmatch(pattern):
        return pattern
    raise ValueError(
        f"invalid subscription pattern {pattern!r}: use an exact topic, 'area.*' or '*'"
    )


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether ``topic`` is selected by a (valid) subscription ``pattern``."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return topic == pattern


@dataclass(frozen=True)
class DeadLetter:
    """An event a subscriber could not handle after every attempt."""

    subscription: str
    event: Event
    error: str
    attempts: int


@dataclass(frozen=True)
class BusStats:
    """Counters the platform can expose on its health page."""

    subscriptions: int
    queued: int
    delivered: int
    retried: int
    dead_letters: int
    # Events dropped from the buffer of a bus that was not running.
    dropped: int = 0


def wanted(sub: LocalSubscription, event: Event) -> bool:
    """Whether ``sub`` accepts ``event``; a failing ``accepts`` counts as yes."""
    accepts = sub.accepts
    try:
        return accepts is None or bool(accepts(event))
    except Exception:
        log.exception("bus subscriber %s: accepts() failed; delivering the event", sub.name)
        return True


class LocalSubscription:
    """One subscriber: its pattern, handler, queue and worker."""

    def __init__(
        self, bus: LocalBus, pattern: str, handler: Handler, name: str, accepts: Accepts | None
    ) -> None:
        self._bus = bus
        self.pattern = pattern
        self.handler = handler
        # Asked on the loop as each matching event is routed; a refused one is not queued.
        self.accepts = accepts
        self._name = name
        self.cancelled = False
        self.queue: asyncio.Queue[Event] | None = None
        self.worker: asyncio.Task[None] | None = None
        # Events put on the queue and not yet finished (handled or given up on).
        self.pending = 0
        self.idle: asyncio.Event | None = None

    @property
    def name(self) -> str:
        return self._name

    def cancel(self) -> None:
        """Stop delivery to this subscriber; events still queued for it are dropped."""
        self._bus._unsubscribe(self)

    def __repr__(self) -> str:
        return f"<LocalSubscription {self._name} {self.pattern!r}>"


class LocalBus:
    """In-process :class:`~smartcity.kernel.bus.base.Bus` on asyncio.

    ``max_attempts`` counts the first try; retry ``n`` waits ``retry_base_delay * 2**(n-1)``
    seconds. ``stop_timeout`` bounds how long :meth:`stop` waits for queues to empty
    (``None``: wait forever). The last ``dead_letter_limit`` dead letters are kept.
    """

    def __init__(
        self,
        *,
        max_attempts: int = 3,
        retry_base_delay: float = 0.1,
        stop_timeout: float | None = 30.0,
        dead_letter_limit: int = 1000,
        max_buffered: int = 10_000,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if retry_base_delay < 0:
            raise ValueError("retry_base_delay must not be negative")
        if max_buffered < 1:
            raise ValueError("max_buffered must be at least 1")
        self._max_buffered = max_buffered
        self._dropped = 0
        self._max_attempts = max_attempts
        self._retry_base_delay = retry_base_delay
        self._stop_timeout = stop_timeout
        # Copy-on-write, so routing can iterate while another thread (un)subscribes.
        self._subscriptions: tuple[LocalSubscription, ...] = ()
        # The subscriptions each topic routed so far matched; emptied (replaced) after
        # every change of ``_subscriptions``, so routing never reads a stale one.
        self._routes: dict[str, tuple[LocalSubscription, ...]] = {}
        self._names = itertools.count(1)
        # Guards the switch between buffering and delivering, and the counters that
        # other threads touch.
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        # Events published while the bus is not running, for delivery at start. Bounded:
        # a process that never starts the bus (seeding, offline tools) must not grow
        # without limit; the oldest events are dropped first, counted and logged.
        self._buffer: deque[Event] = deque()
        # Cross-thread publishes handed to the loop but not yet routed to queues: they
        # wait in the outbox, and one scheduled drain routes them all, so a writer
        # thread finishing a group of writes wakes the loop once, not once per event
        # (each wake-up is a socket write and a hand-over of the interpreter lock).
        self._in_transit = 0
        self._outbox: deque[Event] = deque()
        self._drain_scheduled = False
        self._dead_letters: deque[DeadLetter] = deque(maxlen=dead_letter_limit)
        self._dead_letter_count = 0
        self._delivered = 0
        self._retried = 0

    # -- lifecycle -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the bus is delivering events."""
        return self._loop is not None

    async def start(self) -> None:
        """Start a worker per subscription and deliver events buffered so far."""
        if self._loop is not None:
            return
        loop = asyncio.get_running_loop()
        for sub in self._subscriptions:
            self._start_worker(sub, loop)
        # No await between switching to delivery and routing the buffer, so nothing
        # published meanwhile (on the loop or via call_soon_threadsafe) can overtake it.
        with self._lock:
            self._loop = loop
            self._loop_thread = threading.get_ident()
            buffered, self._buffer = list(self._buffer), deque()
        for event in buffered:
            self._route(event)

    async def stop(self) -> None:
        """Deliver everything queued (up to ``stop_timeout``), then stop the workers."""
        if self._loop is None:
            return
        try:
            async with asyncio.timeout(self._stop_timeout):  # not wait_for (3.11 swallow)
                await self.drain()
        except TimeoutError:
            left = sum(sub.pending for sub in self._subscriptions)
            log.warning("bus stop timed out; dropping %d undelivered event(s)", left)
        with self._lock:
            self._loop = None
            self._loop_thread = None
        workers = [sub.worker for sub in self._subscriptions if sub.worker is not None]
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for sub in self._subscriptions:
            sub.worker = None
            sub.queue = None
            sub.idle = None
            sub.pending = 0

    async def drain(self) -> None:
        """Wait until every queued event has been handled or given up on.

        Handlers may publish more events while we wait; those are waited for too.
        Before :meth:`start` there is nothing in flight and this returns at once.
        """
        while self._loop is not None:
            busy = [sub.idle for sub in self._subscriptions if sub.pending and sub.idle]
            if not busy and not self._in_transit:
                return
            for idle in busy:
                await idle.wait()
            if not busy:
                # Only cross-thread publishes in flight: let the loop run their callbacks.
                await asyncio.sleep(0.001)

    # -- publish / subscribe -------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Queue ``event`` for every matching subscriber; never blocks, any thread."""
        check_event(event)
        with self._lock:
            loop = self._loop
            if loop is None:
                self._keep(event)
                return
            on_loop = threading.get_ident() == self._loop_thread
            if not on_loop:
                self._in_transit += 1
                self._outbox.append(event)
                if self._drain_scheduled:
                    return
                self._drain_scheduled = True
        if on_loop:
            self._route(event)
            return
        try:
            loop.call_soon_threadsafe(self._route_outbox)
        except RuntimeError:
            # The loop closed under us (shutdown race): keep the events for the next start.
            with self._lock:
                self._drain_scheduled = False
                while self._outbox:
                    self._in_transit -= 1
                    self._keep(self._outbox.popleft())

    def subscribe(
        self,
        pattern: str,
        handler: Handler,
        *,
        name: str | None = None,
        accepts: Accepts | None = None,
    ) -> LocalSubscription:
        """Deliver events whose topic matches ``pattern`` (exact, ``area.*`` or ``*``)."""
        check_pattern(pattern)
        if not callable(handler):
            raise TypeError("a bus handler must be an async callable taking the event")
        label = name or f"{getattr(handler, '__qualname__', type(handler).__name__)}"
        sub = LocalSubscription(self, pattern, handler, f"{label}#{next(self._names)}", accepts)
        with self._lock:
            self._subscriptions = (*self._subscriptions, sub)
            self._routes = {}
        loop = self._loop
        if loop is not None:
            if threading.get_ident() == self._loop_thread:
                self._start_worker(sub, loop)
            else:
                loop.call_soon_threadsafe(self._start_worker, sub, loop)
        return sub

    def _unsubscribe(self, sub: LocalSubscription) -> None:
        if sub.cancelled:
            return
        sub.cancelled = True
        with self._lock:
            self._subscriptions = tuple(s for s in self._subscriptions if s is not sub)
            self._routes = {}
        worker, loop = sub.worker, self._loop
        sub.pending = 0
        if sub.idle is not None:
            sub.idle.set()
        if worker is not None and loop is not None:
            if threading.get_ident() == self._loop_thread:
                worker.cancel()
            else:
                loop.call_soon_threadsafe(worker.cancel)

    # -- introspection -------------------------------------------------------------

    @property
    def dead_letters(self) -> tuple[DeadLetter, ...]:
        """The most recent events given up on (oldest first)."""
        return tuple(self._dead_letters)

    @property
    def dead_letter_count(self) -> int:
        """How many events were given up on since the bus was created."""
        return self._dead_letter_count

    def stats(self) -> BusStats:
        """Counters for monitoring."""
        return BusStats(
            subscriptions=len(self._subscriptions),
            queued=sum(sub.pending for sub in self._subscriptions) + len(self._buffer),
            delivered=self._delivered,
            retried=self._retried,
            dead_letters=self._dead_letter_count,
            dropped=self._dropped,
        )

    # -- delivery ------------------------------------------------------------------

    def _start_worker(self, sub: LocalSubscription, loop: asyncio.AbstractEventLoop) -> None:
        if sub.cancelled or sub.worker is not None:
            return
        sub.queue = asyncio.Queue()
        sub.idle = asyncio.Event()
        sub.idle.set()
        sub.pending = 0
        sub.worker = loop.create_task(self._work(sub), name=f"bus:{sub.name}")

    def _keep(self, event: Event) -> None:
        """Buffer ``event`` until the bus starts (call with the lock held)."""
        if len(self._buffer) >= self._max_buffered:
            self._buffer.popleft()
            self._dropped += 1
            if self._dropped == 1 or self._dropped % self._max_buffered == 0:
                log.warning(
                    "bus not running: %d buffered events dropped (the oldest first)",
                    self._dropped,
                )
        self._buffer.append(event)

    def _route_outbox(self) -> None:
        with self._lock:
            events, self._outbox = list(self._outbox), deque()
            self._drain_scheduled = False
            self._in_transit -= len(events)
            if self._loop is None:
                # stop() finished while these were in transit: keep them for the next start.
                for event in events:
                    self._keep(event)
                return
        for event in events:
            self._route(event)

    def _route(self, event: Event) -> None:
        topic = type(event).topic
        # The routes before the subscriptions: (un)subscribing replaces them in the
        # other order, so a route found here was built from these subscriptions or later.
        routes = self._routes
        matching = routes.get(topic)
        if matching is None:
            matching = routes[topic] = tuple(
                sub for sub in self._subscriptions if topic_matches(sub.pattern, topic)
            )
        for sub in matching:
            if sub.queue is None:
                continue
            if sub.accepts is not None and not wanted(sub, event):
                continue
            sub.queue.put_nowait(event)
            sub.pending += 1
            if sub.idle is not None:
                sub.idle.clear()

    async def _work(self, sub: LocalSubscription) -> None:
        queue = sub.queue
        if queue is None:  # _start_worker sets the queue before creating this task
            return
        while True:
            event = await queue.get()
            try:
                await self._deliver(sub, event)
            finally:
                if not sub.cancelled:
                    sub.pending -= 1
                    if sub.pending == 0 and sub.idle is not None:
                        sub.idle.set()

    async def _deliver(self, sub: LocalSubscription, event: Event) -> None:
        for attempt in range(1, self._max_attempts + 1):
            try:
                await sub.handler(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if attempt < self._max_attempts:
                    delay = self._retry_base_delay * 2 ** (attempt - 1)
                    log.warning(
                        "bus subscriber %s failed on %s (attempt %d of %d), retrying in %.3fs",
                        sub.name,
                        type(event).topic,
                        attempt,
                        self._max_attempts,
                        delay,
                        exc_info=exc,
                    )
                    self._retried += 1
                    await asyncio.sleep(delay)
                    continue
                log.error(
                    "bus subscriber %s gave up on %s after %d attempt(s)",
                    sub.name,
                    type(event).topic,
                    attempt,
                    exc_info=exc,
                )
                self._dead_letters.append(
                    DeadLetter(
                        subscription=sub.name,
                        event=event,
                        error=f"{type(exc).__name__}: {exc}",
                        attempts=attempt,
                    )
                )
                self._dead_letter_count += 1
                return
            else:
                self._delivered += 1
                return


__all__ = [
    "BusStats",
    "DeadLetter",
    "LocalBus",
    "LocalSubscription",
    "check_event",
    "check_pattern",
    "topic_matches",
]
