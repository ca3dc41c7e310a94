"""Where the MQTT consumer's batches are written: a thread, or a worker process.

Decoding a measure costs the gateway ~15 µs; writing it costs the information library
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
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from smartcity.gateways.iot.agent import IotAgent, Update
from smartcity.kernel.bus import Bus, Event
from smartcity.kernel.bus.collecting import CollectingBus
from smartcity.kernel.clock import RealClock
from smartcity.kernel.errors import DomainError

log = logging.getLogger(__name__)


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


@dataclass
class ThreadWriter:
    """Writes in a worker thread of this process, through ``agent`` (the platform's store)."""

    agent: IotAgent

    async def write(self, batch: list[Update]) -> BatchOutcome:
        """Write one batch off the event loop."""
        return await asyncio.to_thread(write_batch, self.agent, batch)

    def close(self) -> None:
        """Nothing to release: the store is the platform's."""


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
