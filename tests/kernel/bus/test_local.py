"""LocalBus: ordering, isolation of subscribers, retries, threads, patterns, shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import ClassVar

import anyio
import pytest

from smartcity.kernel.bus import Bus, Event, open_bus
from smartcity.kernel.bus.local import LocalBus, check_pattern, topic_matches

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class TicketOpened(Event):
    topic: ClassVar[str] = "hotline.ticket_opened"
    n: int
    source: str = "main"


@dataclass(frozen=True)
class TicketClosed(Event):
    topic: ClassVar[str] = "hotline.ticket_closed"
    n: int


@dataclass(frozen=True)
class SpotFreed(Event):
    topic: ClassVar[str] = "parking.spot_freed"
    n: int


class Recorder:
    """An async handler that remembers what it got."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)

    def numbers(self) -> list[int]:
        return [e.n for e in self.events if isinstance(e, TicketOpened | TicketClosed | SpotFreed)]


def fast_bus(**options: float) -> LocalBus:
    return LocalBus(retry_base_delay=0.001, **options)  # type: ignore[arg-type]


def test_open_bus_gives_a_local_bus() -> None:
    bus: Bus = open_bus("local")
    assert isinstance(bus, LocalBus)


async def test_thousand_events_arrive_in_publish_order() -> None:
    bus = fast_bus()
    first, second = Recorder(), Recorder()
    bus.subscribe("hotline.ticket_opened", first)
    bus.subscribe("hotline.*", second)
    # Half before start (buffered), half after.
    for n in range(500):
        bus.publish(TicketOpened(n))
    await bus.start()
    for n in range(500, 1000):
        bus.publish(TicketOpened(n))
    await bus.drain()
    assert first.numbers() == list(range(1000))
    assert second.numbers() == list(range(1000))
    assert bus.stats().delivered == 2000
    await bus.stop()


async def test_failing_subscriber_is_retried_then_given_up_others_unaffected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = fast_bus()
    attempts: dict[int, int] = {}
    handled: list[int] = []

    async def flaky(event: Event) -> None:
        assert isinstance(event, TicketOpened)
        attempts[event.n] = attempts.get(event.n, 0) + 1
        if event.n == 1 and attempts[event.n] < 3:
            raise RuntimeError("transient")  # succeeds on the third try
        if event.n == 2:
            raise RuntimeError("always broken")
        handled.append(event.n)

    healthy = Recorder()
    bus.subscribe("hotline.ticket_opened", flaky, name="flaky")
    bus.subscribe("hotline.ticket_opened", healthy, name="healthy")
    await bus.start()
    with caplog.at_level(logging.WARNING, logger="smartcity.kernel.bus.local"):
        for n in range(5):
            bus.publish(TicketOpened(n))
        await bus.drain()
    assert attempts == {0: 1, 1: 3, 2: 3, 3: 1, 4: 1}
    assert handled == [0, 1, 3, 4]
    assert healthy.numbers() == [0, 1, 2, 3, 4]
    assert bus.dead_letter_count == 1
    (dead,) = bus.dead_letters
    assert dead.subscription.startswith("flaky#")
    assert dead.event == TicketOpened(2)
    assert dead.attempts == 3
    assert "always broken" in dead.error
    assert any(r.exc_info and "always broken" in str(r.exc_info[1]) for r in caplog.records)
    assert any("gave up" in r.getMessage() for r in caplog.records)
    await bus.stop()


async def test_slow_subscriber_does_not_hold_up_a_fast_one() -> None:
    bus = fast_bus()
    gate = asyncio.Event()
    slow_got: list[int] = []
    fast = Recorder()
    fast_done = asyncio.Event()

    async def slow(event: Event) -> None:
        assert isinstance(event, TicketOpened)
        await gate.wait()
        slow_got.append(event.n)

    async def fast_handler(event: Event) -> None:
        await fast(event)
        if len(fast.events) == 100:
            fast_done.set()

    bus.subscribe("hotline.ticket_opened", slow)
    bus.subscribe("hotline.ticket_opened", fast_handler)
    await bus.start()
    for n in range(100):
        bus.publish(TicketOpened(n))
    with anyio.fail_after(10):
        await fast_done.wait()
    # The fast subscriber has everything while the slow one is still stuck on event 0.
    assert fast.numbers() == list(range(100))
    assert slow_got == []
    gate.set()
    await bus.drain()
    assert slow_got == list(range(100))
    await bus.stop()


async def test_publish_from_other_threads() -> None:
    bus = fast_bus()
    got = Recorder()
    bus.subscribe("hotline.ticket_opened", got)
    await bus.start()

    def publisher(name: str) -> None:
        for n in range(250):
            bus.publish(TicketOpened(n, source=name))

    def run_threads() -> None:
        threads = [threading.Thread(target=publisher, args=(f"t{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    await anyio.to_thread.run_sync(run_threads)
    await bus.drain()
    assert len(got.events) == 1000
    for name in ("t0", "t1", "t2", "t3"):
        mine = [e.n for e in got.events if isinstance(e, TicketOpened) and e.source == name]
        assert mine == list(range(250)), name  # each thread's events stay in order
    await bus.stop()


async def test_drain_waits_for_events_published_by_handlers() -> None:
    bus = fast_bus()
    closed = Recorder()

    async def close_it(event: Event) -> None:
        assert isinstance(event, TicketOpened)
        await asyncio.sleep(0)
        bus.publish(TicketClosed(event.n))

    bus.subscribe("hotline.ticket_opened", close_it)
    bus.subscribe("hotline.ticket_closed", closed)
    await bus.start()
    for n in range(20):
        bus.publish(TicketOpened(n))
    await bus.drain()
    assert closed.numbers() == list(range(20))
    await bus.stop()


async def test_patterns_select_topics() -> None:
    bus = fast_bus()
    exact, area, every, other_area = Recorder(), Recorder(), Recorder(), Recorder()
    bus.subscribe("hotline.ticket_closed", exact)
    bus.subscribe("hotline.*", area)
    bus.subscribe("*", every)
    bus.subscribe("hot.*", other_area)
    await bus.start()
    bus.publish(TicketOpened(1))
    bus.publish(TicketClosed(2))
    bus.publish(SpotFreed(3))
    await bus.drain()
    assert exact.numbers() == [2]
    assert area.numbers() == [1, 2]
    assert every.numbers() == [1, 2, 3]
    assert other_area.numbers() == []
    await bus.stop()


def test_pattern_rules() -> None:
    assert topic_matches("a.*", "a.b_done")
    assert topic_matches("a.b.*", "a.b.c")
    assert not topic_matches("a.*", "ab.c")
    assert not topic_matches("a.b", "a.bc")
    for bad in ("", "a*", "*.x", "A.b", "a.", "a.**", "hotline"):
        with pytest.raises(ValueError):
            check_pattern(bad)


async def test_stop_drains_then_stops_workers() -> None:
    bus = fast_bus()
    got: list[int] = []

    async def handler(event: Event) -> None:
        assert isinstance(event, TicketOpened)
        await asyncio.sleep(0.001)
        got.append(event.n)

    bus.subscribe("hotline.ticket_opened", handler)
    await bus.start()
    for n in range(50):
        bus.publish(TicketOpened(n))
    await bus.stop()
    assert got == list(range(50))
    assert not bus.running
    # After stop events wait for the next start.
    bus.publish(TicketOpened(50))
    assert got == list(range(50))
    assert bus.stats().queued == 1
    await bus.start()
    await bus.drain()
    assert got == list(range(51))
    await bus.stop()


async def test_stop_gives_up_on_a_stuck_handler_after_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = LocalBus(stop_timeout=0.05)
    never = asyncio.Event()

    async def stuck(event: Event) -> None:
        await never.wait()

    bus.subscribe("*", stuck)
    await bus.start()
    bus.publish(TicketOpened(1))
    with caplog.at_level(logging.WARNING), anyio.fail_after(5):
        await bus.stop()
    assert not bus.running
    assert any("timed out" in r.getMessage() for r in caplog.records)


async def test_cancelled_subscription_gets_nothing_more() -> None:
    bus = fast_bus()
    got = Recorder()
    sub = bus.subscribe("*", got, name="watcher")
    assert sub.name.startswith("watcher")
    await bus.start()
    bus.publish(TicketOpened(1))
    await bus.drain()
    sub.cancel()
    bus.publish(TicketOpened(2))
    await bus.drain()
    assert got.numbers() == [1]
    await bus.stop()


async def test_subscribe_after_start() -> None:
    bus = fast_bus()
    await bus.start()
    got = Recorder()
    bus.subscribe("parking.*", got)
    bus.publish(SpotFreed(7))
    await bus.drain()
    assert got.numbers() == [7]
    await bus.stop()


async def test_a_subscriber_joining_after_a_topic_was_routed_gets_its_next_events() -> None:
    bus = fast_bus()
    first = Recorder()
    bus.subscribe("parking.*", first)
    await bus.start()
    bus.publish(SpotFreed(1))
    await bus.drain()
    later = Recorder()
    sub = bus.subscribe("parking.spot_freed", later)
    bus.publish(SpotFreed(2))
    await bus.drain()
    sub.cancel()
    bus.publish(SpotFreed(3))
    await bus.drain()
    assert first.numbers() == [1, 2, 3]
    assert later.numbers() == [2]
    await bus.stop()


async def test_drain_before_start_returns_and_keeps_the_buffer() -> None:
    bus = fast_bus()
    got = Recorder()
    bus.subscribe("*", got)
    bus.publish(TicketOpened(1))
    await bus.drain()
    assert got.events == []
    await bus.start()
    await bus.drain()
    assert got.numbers() == [1]
    await bus.stop()


@dataclass(frozen=True)
class NoTopic(Event):
    n: int


@dataclass(frozen=True)
class BadTopic(Event):
    topic: ClassVar[str] = "NotDotted"


class Undecorated(TicketOpened):
    pass


@dataclass
class Mutable:
    topic: ClassVar[str] = "x.changed"
    n: int


def test_publish_rejects_what_is_not_a_proper_event() -> None:
    bus = fast_bus()
    with pytest.raises(TypeError, match="Event"):
        bus.publish({"topic": "x.y"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Event"):
        bus.publish(Mutable(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no topic"):
        bus.publish(NoTopic(1))
    with pytest.raises(ValueError, match="dotted"):
        bus.publish(BadTopic())
    with pytest.raises(TypeError, match="frozen"):
        bus.publish(Undecorated(1))
    with pytest.raises(TypeError, match="async callable"):
        bus.subscribe("*", "not callable")  # type: ignore[arg-type]
    assert bus.stats().queued == 0


@pytest.mark.anyio
async def test_a_bus_never_started_keeps_only_the_newest_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = LocalBus(retry_base_delay=0.001, max_buffered=100)
    recorder = Recorder()
    bus.subscribe("hotline.*", recorder)
    with caplog.at_level(logging.WARNING, logger="smartcity.kernel.bus.local"):
        for n in range(250):
            bus.publish(TicketOpened(n=n))
    assert bus.stats().queued == 100
    assert bus.stats().dropped == 150
    assert "dropped" in caplog.text
    await bus.start()
    await bus.drain()
    await bus.stop()
    assert recorder.numbers() == list(range(150, 250))


async def test_a_subscriber_gets_only_the_events_it_accepts_in_order() -> None:
    bus = fast_bus()
    odd, everything = Recorder(), Recorder()
    asked: list[int] = []

    def accepts(event: Event) -> bool:
        assert isinstance(event, TicketOpened)
        asked.append(event.n)
        return event.n % 2 == 1

    bus.subscribe("hotline.ticket_opened", odd, accepts=accepts)
    bus.subscribe("hotline.ticket_opened", everything)
    bus.publish(TicketOpened(0))  # buffered before start: asked when routed
    await bus.start()
    for n in range(1, 6):
        bus.publish(TicketOpened(n))
    await asyncio.to_thread(bus.publish, TicketOpened(6))  # from another thread
    await bus.drain()
    assert asked == [0, 1, 2, 3, 4, 5, 6]
    assert odd.numbers() == [1, 3, 5]
    assert everything.numbers() == [0, 1, 2, 3, 4, 5, 6]
    await bus.stop()


async def test_a_failing_accepts_delivers_the_event(caplog: pytest.LogCaptureFixture) -> None:
    bus = fast_bus()
    got = Recorder()

    def broken(event: Event) -> bool:
        raise RuntimeError("broken predicate")

    bus.subscribe("hotline.*", got, accepts=broken, name="careful")
    await bus.start()
    with caplog.at_level(logging.ERROR, logger="smartcity.kernel.bus.local"):
        bus.publish(TicketOpened(1))
        await bus.drain()
    assert got.numbers() == [1]
    assert "accepts() failed" in caplog.text
    await bus.stop()
