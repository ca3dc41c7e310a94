"""Delivering notifications: lanes per endpoint, retries, and batched status.

Every endpoint (keyed by URI) has a few lanes, each a bounded queue with one task
sending from it, so a dead or slow endpoint only delays its own notifications; one
entity's notifications always take the same lane, so they arrive in order, while
different entities' go out concurrently (one lane would cap an endpoint at one
notification per round trip). A failed delivery is retried with exponential backoff;
once one has run out of attempts the endpoint counts as failing: later notifications fail
at once, except one probe attempt per ``failing_probe_interval``, until a probe
succeeds. When a lane is full its oldest waiting notification is dropped (logged and
counted as a failure), because a subscriber wants the newest state most. Outcomes go to
a :class:`StatusRecorder`, written in one batch every ``status_flush_interval``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import orjson

from smartcity.kernel.clock import Clock
from smartcity.kernel.context.subscriptions.delivery import DeliveryFailed, HttpSender, MqttSender
from smartcity.kernel.context.subscriptions.model import Subscription
from smartcity.kernel.context.subscriptions.settings import NotifierSettings, NotifierStats
from smartcity.kernel.context.subscriptions.status import StatusRecorder
from smartcity.kernel.storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One notification waiting for its endpoint."""

    subscription: Subscription
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Lane:
    """One queue of an endpoint and the task that sends from it, one at a time."""

    queue: asyncio.Queue[Job]
    task: asyncio.Task[None] | None = None


@dataclass
class EndpointWorker:
    """The lanes of one endpoint and whether it is failing."""

    uri: str
    lanes: list[Lane]
    # Set when a notification ran out of attempts, cleared by the next success. While
    # set, notifications fail at once except for one probe per ``failing_probe_interval``:
    # backing off (or even connecting) for every queued one would let a dead endpoint's
    # backlog grow without bound and spend the event loop the live endpoints need.
    failing: bool = False
    next_probe: float = 0.0


class Dispatcher:
    """Queues notifications per endpoint and sends them (see module docstring)."""

    def __init__(
        self, store: Store, clock: Clock, settings: NotifierSettings, stats: NotifierStats
    ) -> None:
        self._clock = clock
        self.settings = settings
        self._stats = stats
        self._status = StatusRecorder(store)
        self._flush_lock = asyncio.Lock()
        self._endpoints: dict[str, EndpointWorker] = {}
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._flusher: asyncio.Task[None] | None = None
        self._http: HttpSender | None = None
        self._mqtt: MqttSender | None = None

    async def start(self) -> None:
        """Open the senders and start the status flusher."""
        self._http = HttpSender(self.settings.request_timeout)
        self._mqtt = MqttSender(self.settings.request_timeout)
        self._flusher = asyncio.create_task(self._flush_loop(), name="subscriptions:status")

    async def stop(self) -> None:
        """Cancel every delivery (unrecorded), write the status, close the senders."""
        tasks = [
            lane.task
            for worker in self._endpoints.values()
            for lane in worker.lanes
            if lane.task is not None
        ]
        if self._flusher is not None:
            tasks.append(self._flusher)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._endpoints.clear()
        self._flusher = None
        self._pending = 0
        self._idle.set()
        await self.flush()
        for sender in (self._http, self._mqtt):
            if sender is not None:
                await sender.close()
        self._http = self._mqtt = None

    @property
    def pending(self) -> int:
        """Notifications queued or being sent."""
        return self._pending

    async def wait_idle(self) -> None:
        """Wait until nothing is queued or being sent."""
        await self._idle.wait()

    async def flush(self) -> None:
        """Write the gathered notification status now."""
        # One flush at a time: a caller must not return while the background flusher
        # is still writing outcomes it already took.
        async with self._flush_lock:
            changes = self._status.take()
            if changes:
                await asyncio.to_thread(self._status.write, changes)

    def enqueue(self, job: Job, order_key: Hashable) -> None:
        """Queue ``job``; jobs with equal ``order_key`` are sent in the order queued."""
        worker = self._worker(job.subscription.notification.endpoint.uri)
        lane = worker.lanes[hash(order_key) % len(worker.lanes)]
        if lane.queue.full():
            dropped = lane.queue.get_nowait()
            self._finish(dropped, succeeded=False)
            self._stats.dropped += 1
            log.warning(
                "a notification queue of %s is full (%d); dropped the oldest notification of %s",
                worker.uri,
                lane.queue.maxsize,
                dropped.subscription.id,
            )
        lane.queue.put_nowait(job)
        self._pending += 1
        self._idle.clear()

    def _worker(self, uri: str) -> EndpointWorker:
        worker = self._endpoints.get(uri)
        if worker is None:
            count = max(1, self.settings.endpoint_lanes)
            size = max(1, self.settings.queue_size // count)
            worker = EndpointWorker(
                uri=uri, lanes=[Lane(asyncio.Queue(size)) for _ in range(count)]
            )
            for number, lane in enumerate(worker.lanes):
                lane.task = asyncio.create_task(
                    self._work(worker, lane), name=f"subscriptions:{uri}#{number}"
                )
            self._endpoints[uri] = worker
        return worker

    async def _work(self, worker: EndpointWorker, lane: Lane) -> None:
        while True:
            job = await lane.queue.get()
            try:
                succeeded = await self._deliver(job, worker)
            except asyncio.CancelledError:
                # Stopping: the notification's fate is unknown, so it is not recorded.
                raise
            except Exception:
                log.exception("delivering a notification to %s failed", worker.uri)
                succeeded = False
            self._finish(job, succeeded=succeeded)

    def _finish(self, job: Job, *, succeeded: bool) -> None:
        subscription = job.subscription
        self._status.record(
            subscription.tenant, subscription.id, succeeded=succeeded, at=self._clock.now()
        )
        if succeeded:
            self._stats.delivered += 1
        else:
            self._stats.failed += 1
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self._idle.set()

    async def _deliver(self, job: Job, worker: EndpointWorker) -> bool:
        settings = self.settings
        if worker.failing:
            now = time.monotonic()
            if now < worker.next_probe:
                return False
            worker.next_probe = now + settings.failing_probe_interval
        attempts = 1 if worker.failing else settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                await self._send(job)
            except DeliveryFailed as exc:
                if attempt == attempts:
                    if not worker.failing:
                        log.warning(
                            "notifications to %s fail (%s after %d attempt(s)); failing "
                            "further ones at once, probing every %.1fs until it answers",
                            worker.uri,
                            exc,
                            attempt,
                            settings.failing_probe_interval,
                        )
                        worker.failing = True
                        worker.next_probe = time.monotonic() + settings.failing_probe_interval
                    return False
                self._stats.retried += 1
                delay = min(
                    settings.retry_base_delay * 2 ** (attempt - 1), settings.retry_max_delay
                )
                await asyncio.sleep(delay)
            else:
                if worker.failing:
                    log.info("notifications to %s are delivered again", worker.uri)
                    worker.failing = False
                return True
        return False

    async def _send(self, job: Job) -> None:
        endpoint = job.subscription.notification.endpoint
        if endpoint.scheme in ("mqtt", "mqtts"):
            if self._mqtt is None:
                raise DeliveryFailed("the notifier is stopped")
            await self._mqtt.send(endpoint, job.headers, job.body)
            return
        if self._http is None:
            raise DeliveryFailed("the notifier is stopped")
        await self._http.send(endpoint, job.headers, orjson.dumps(job.body))

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.status_flush_interval)
            try:
                await self.flush()
            except Exception:
                # The database may be briefly unavailable; the next flush tries again
                # with whatever has gathered since (this batch is lost, and logged).
                log.exception("writing subscription notification status failed")
