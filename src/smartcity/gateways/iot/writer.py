"""Where the MQTT consumer's batches are written: threads, or a worker process.

On PostgreSQL the thread writer has two lanes: each batch is split by entity, and while
one lane waits for its statements the other merges its rows in Python, so a batch's
wall time is no longer the library's Python plus the database's work, one after the
other (see :class:`ThreadWriter`).

Decoding a measure costs the gateway ~5 µs; writing it costs the information library
several times that, in Python, under the GIL. In one interpreter the two take turns, so
the library's share caps the rate. :class:`ProcessWriter` moves the library write into a
worker process of its own (over the same database), and the consumer keeps decoding
while the worker writes.

Events: the worker's library publishes its ``EntityChanged`` events on a bus that only
collects them; they travel back with the batch's outcome and the consumer's process
publishes them on the platform's bus, so subscriptions are notified exactly as for a
write made in that process (after the commit, one entity's changes in order).
``createdAt``/``modifiedAt`` then come from the worker's real clock; ``observedAt`` was
fixed by the consumer when it decoded the message.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from smartcity.gateways.iot.agent import IotAgent, Update
from smartcity.kernel.bus import Bus, Event
from smartcity.kernel.bus.collecting import CollectingBus
from smartcity.kernel.clock import RealClock
from smartcity.kernel.errors import DomainError
from smartcity.kernel.storage import Store

log = logging.getLogger(__name__)

# Lanes of the thread writer on PostgreSQL (see ThreadWriter and lanes_for).
POSTGRES_LANES = 2


@dataclass
class BatchOutcome:
    """What writing one batch did: measures written, updates refused, events to publish."""

    measurements: int = 0
    rejected: int = 0
    events: list[Event] = field(default_factory=list)


class BatchWriter(Protocol):
    """Writes the consumer's batches."""

    async def write(self, batch: list[Update]) -> BatchOutcome:
        """Write one batch; a refused update is counted, never raised."""
        ...

    def close(self) -> None:
        """Release what the writer holds."""
        ...


def write_batch(agent: IotAgent, batch: Sequence[Update]) -> BatchOutcome:
    """Write a batch in one round of library calls, else update by update.

    One update the library refuses must not cost the others of its batch: on any error
    the batch is written again one update at a time and only the bad ones are counted.
    """
    outcome = BatchOutcome()
    try:
        outcome.measurements = agent.write(batch)
        return outcome
    except DomainError as error:
        log.warning("MQTT batch refused (%s); writing its updates one by one", error.reason)
    except Exception:
        log.exception("MQTT batch of %d updates failed; writing one by one", len(batch))
    for update in batch:
        try:
            outcome.measurements += agent.write([update])
        except Exception:
            outcome.rejected += 1
            log.exception("MQTT update of %s failed", update.entity["id"])
    return outcome


class ThreadWriter:
    """Writes in threads of this process, through ``agent`` (the platform's store).

    With ``lanes`` > 1 a batch is split by entity over that many threads, each writing
    its part on a connection of its own: while one lane's statements run in the
    database (the interpreter lock released), another lane's library call merges its
    rows in Python, so the two costs overlap instead of adding up. An entity always
    goes to the same lane and a batch is written whole before the next one starts, so
    one device's measures are stored in the order they arrived. One lane on SQLite,
    whose writes run one at a time in the store's writer thread anyway.
    """

    def __init__(self, agent: IotAgent, lanes: int = 1) -> None:
        if lanes < 1:
            raise ValueError("a writer needs at least one lane")
        self.agent = agent
        self.lanes = lanes
        self._threads = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="mqtt-write")

    async def write(self, batch: list[Update]) -> BatchOutcome:
        """Write one batch off the event loop, its lanes at once."""
        loop = asyncio.get_running_loop()
        parts = split_by_entity(batch, self.lanes)
        # Each lane runs in a copy of the caller's context, as asyncio.to_thread would.
        outcomes = await asyncio.gather(
            *(
                loop.run_in_executor(
                    self._threads, contextvars.copy_context().run, write_batch, self.agent, part
                )
                for part in parts
            )
        )
        if len(outcomes) == 1:
            return outcomes[0]
        total = BatchOutcome()
        for outcome in outcomes:
            total.measurements += outcome.measurements
            total.rejected += outcome.rejected
            total.events.extend(outcome.events)
        return total

    def close(self) -> None:
        """Stop the lanes' threads once they have written what they were given."""
        self._threads.shutdown(wait=True)


def split_by_entity(batch: list[Update], lanes: int) -> list[list[Update]]:
    """The batch's updates in ``lanes`` parts, all of one entity's in one part, in order.

    Empty parts are left out. The lane of an entity is its hash in this process, so it
    is the same for every batch.
    """
    if lanes == 1:
        return [batch] if batch else []
    parts: list[list[Update]] = [[] for _ in range(lanes)]
    for update in batch:
        parts[hash((update.tenant, update.entity["id"])) % lanes].append(update)
    return [part for part in parts if part]


def lanes_for(store: Store) -> int:
    """How many lanes a thread writer gets over ``store``: two on PostgreSQL, else one.

    PostgreSQL writes of the process run at once on connections of their own, so a
    second lane overlaps one batch's database time with another's Python. SQLite admits
    one writer, and the store runs all its writes in one thread: a second lane would
    only queue there.
    """
    return POSTGRES_LANES if store.dialect == "postgresql" else 1


class ProcessWriter:
    """Writes in a worker process over ``database_url``; publishes its events on ``bus``."""

    def __init__(self, database_url: str, bus: Bus) -> None:
        self.bus = bus
        self.database_url = database_url
        self._pool = self._new_pool()
        # Start the worker now (it takes a second to import the platform), not on the
        # first batch.
        self._started = self._pool.submit(_ping)

    def _new_pool(self) -> ProcessPoolExecutor:
        # Spawned, not forked: the server process runs threads (group commit, executors)
        # whose locks a fork could copy in a held state.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.database_url,),
        )

    def wait_started(self, timeout: float | None = None) -> None:
        """Block until the worker process is up and has opened the database."""
        self._started.result(timeout)

    async def write(self, batch: list[Update]) -> BatchOutcome:
        """Write one batch in the worker, then publish the events it reports."""
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(self._pool, _write_in_worker, batch)
        except BrokenProcessPool:
            # The worker died (killed, out of memory): a new one writes the batch again.
            # Had the dead one committed it, its history instances are stored twice (same
            # observedAt); losing the batch would be the worse choice.
            log.error("the MQTT write worker died; starting another for the batch")
            self._pool.shutdown(wait=False)
            self._pool = self._new_pool()
            outcome = await loop.run_in_executor(self._pool, _write_in_worker, batch)
        for event in outcome.events:
            self.bus.publish(event)
        return outcome

    def close(self) -> None:
        """Stop the worker process once it has written what it was given."""
        self._pool.shutdown(wait=True)


# The worker process's agent and bus (one worker process per ProcessWriter).
_worker: tuple[IotAgent, CollectingBus] | None = None


def worker_engine_options(database_url: str) -> dict[str, Any]:
    """Engine options of the worker process's store: a few connections are enough on
    PostgreSQL, as one batch is written at a time. (Its batch statements are planned for
    their arrays by the library itself: ``storage.driver.plan_each_run``.)"""
    if make_url(database_url).get_backend_name() != "postgresql":
        return {}
    return {"pool_size": 2, "max_overflow": 2}


def _start_worker(database_url: str) -> None:
    global _worker
    from smartcity.kernel.context.library import ContextLibrary
    from smartcity.kernel.storage import open_store

    store = open_store(database_url, **worker_engine_options(database_url))
    bus = CollectingBus()
    clock = RealClock()
    _worker = (IotAgent(store, ContextLibrary(store, bus, clock), clock), bus)


def _ping() -> None:
    """Nothing: submitted once to start the worker."""


def _write_in_worker(batch: list[Update]) -> BatchOutcome:
    if _worker is None:  # pragma: no cover - the pool's initializer always ran
        raise RuntimeError("the MQTT write worker was not started")
    agent, bus = _worker
    outcome = write_batch(agent, batch)
    outcome.events = bus.take()
    return outcome
