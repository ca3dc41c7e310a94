"""The dispatcher: delivers due outbox rows through the sender of each channel.

``drain_once`` is one synchronous round (claim, send, record), used by
``smartcity notify drain`` and by tests; ``run`` repeats it in a background asyncio task
(started in the API lifespan), sending in a worker thread so the event loop never waits
on SMTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from smartcity.kernel.clock import Clock
from smartcity.kernel.config import Settings
from smartcity.kernel.notify.categories import Channel
from smartcity.kernel.notify.models import OutboxStatus
from smartcity.kernel.notify.outbox import (
    RetryPolicy,
    any_due,
    claim_due,
    record_failure,
    record_sent,
)
from smartcity.kernel.notify.senders import (
    LOG_FILE,
    LogSender,
    Sender,
    SendFailed,
    SmtpAddress,
    SmtpSender,
)
from smartcity.kernel.storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DrainResult:
    """What one round did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed

    def __add__(self, other: DrainResult) -> DrainResult:
        return DrainResult(
            self.sent + other.sent, self.retrying + other.retrying, self.failed + other.failed
        )


def senders_from_settings(settings: Settings) -> dict[Channel, Sender]:
    """The log sender for SMS (no SMS gateway yet), SMTP for e-mail when configured."""
    log_sender = LogSender(settings.data_dir / LOG_FILE)
    email: Sender = log_sender
    if settings.smtp_url:
        email = SmtpSender(SmtpAddress.parse(settings.smtp_url), settings.smtp_sender)
    return {Channel.SMS: log_sender, Channel.EMAIL: email}


def policy_from_settings(settings: Settings) -> RetryPolicy:
    return RetryPolicy(max_attempts=settings.notify_max_attempts)


class Dispatcher:
    """Delivers the outbox of one store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        senders: Mapping[Channel, Sender],
        policy: RetryPolicy | None = None,
        batch: int = 100,
        interval: float = 1.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.senders = dict(senders)
        self.policy = policy or RetryPolicy()
        self.batch = batch
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    def drain_once(self) -> DrainResult:
        """Claim up to one batch of due rows, send them and record the outcomes."""
        with self.store.connect() as conn:
            if not any_due(conn, self.clock.now()):
                return DrainResult()
        with self.store.begin() as conn:
            rows = claim_due(conn, self.clock.now(), self.batch, self.policy)
        if not rows:
            return DrainResult()
        sent: list[int] = []
        failures: list[tuple[int, str]] = []
        for row in rows:
            sender = self.senders.get(row.channel)
            try:
                if sender is None:
                    raise SendFailed(f"no sender for channel {row.channel.value}")
                sender.send(row, self.clock.now())
                sent.append(row.id)
            except SendFailed as exc:
                failures.append((row.id, str(exc)))
            except Exception as exc:  # a sender bug must not stop the other rows
                log.exception("sender for %s crashed on outbox row %s", row.channel, row.id)
                failures.append((row.id, f"{type(exc).__name__}: {exc}"))
        by_id = {row.id: row for row in rows}
        retrying = failed = 0
        now = self.clock.now()
        with self.store.begin() as conn:
            record_sent(conn, sent, now)
            for row_id, error in failures:
                status = record_failure(conn, by_id[row_id], error, now, self.policy)
                if status == OutboxStatus.FAILED:
                    failed += 1
                else:
                    retrying += 1
        return DrainResult(len(sent), retrying, failed)

    def drain(self, max_rounds: int = 1_000_000) -> DrainResult:
        """Rounds until nothing is due now (rows waiting for quiet hours or backoff stay)."""
        total = DrainResult()
        for _ in range(max_rounds):
            result = self.drain_once()
            total += result
            if result.claimed < self.batch:
                break
        return total

    def wake(self) -> None:
        """Look at the outbox now instead of at the next tick (new rows were committed)."""
        self._wake.set()

    async def run(self) -> None:
        """Drain every ``interval`` seconds (or when woken) until cancelled."""
        while not self._stopping:
            try:
                result = await asyncio.to_thread(self.drain_once)
            except Exception:  # the database may be briefly away; try again next tick
                log.exception("outbox round failed")
                result = DrainResult()
            if result.claimed >= self.batch:
                continue  # more is due: no pause
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that arrives as the wake-up does, and stop() then waited for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()

    def start(self) -> None:
        """Run in a background task of the current event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="notify-outbox")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
