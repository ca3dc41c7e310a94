"""Claiming outbox rows and recording how their delivery went.

A dispatcher claims due rows in one short transaction by pushing their ``not_before``
a lease ahead (so a second dispatcher, or the same one after a crash, leaves them alone
until the lease runs out) and counting the attempt. It sends outside any transaction,
then records each outcome: sent; or retried after an exponential backoff; or failed
after the last attempt. A crash at any point leaves a row pending, to be claimed again
when its lease ends: delivery is at least once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from smartcity.kernel.notify.models import OutboxRow, OutboxStatus
from smartcity.kernel.notify.queries import outbox_from_row
from smartcity.kernel.notify.tables import notify_outbox

MAX_ERROR_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a delivery is tried."""

    max_attempts: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    # How long a claimed row is left alone while it is being sent.
    lease: timedelta = timedelta(minutes=5)

    def delay_after(self, attempts: int) -> timedelta:
        """Backoff after the ``attempts``-th failed try: first_delay · 2^(attempts-1), capped."""
        exponent = max(0, attempts - 1)
        if exponent >= 32:
            return self.max_delay
        delay: timedelta = self.first_delay * (2**exponent)
        return min(delay, self.max_delay)


def any_due(conn: Connection, now: datetime) -> bool:
    """True when some pending row is due: a read, so idle rounds never take a write lock."""
    row = conn.execute(
        select(notify_outbox.c.id)
        .where(notify_outbox.c.status == OutboxStatus.PENDING, notify_outbox.c.not_before <= now)
        .limit(1)
    ).first()
    return row is not None


def claim_due(conn: Connection, now: datetime, limit: int, policy: RetryPolicy) -> list[OutboxRow]:
    """Claim up to ``limit`` pending rows due at ``now``; each gets one more attempt."""
    statement = (
        select(notify_outbox)
        .where(notify_outbox.c.status == OutboxStatus.PENDING, notify_outbox.c.not_before <= now)
        .order_by(notify_outbox.c.not_before, notify_outbox.c.id)
        .limit(limit)
        # PostgreSQL: concurrent dispatchers skip each other's rows; SQLite writers queue.
        .with_for_update(skip_locked=True)
    )
    rows = [outbox_from_row(r._mapping) for r in conn.execute(statement)]
    if not rows:
        return []
    conn.execute(
        update(notify_outbox)
        .where(notify_outbox.c.id.in_([r.id for r in rows]))
        .values(attempts=notify_outbox.c.attempts + 1, not_before=now + policy.lease)
    )
    return [replace(r, attempts=r.attempts + 1, not_before=now + policy.lease) for r in rows]


def record_sent(conn: Connection, row_ids: list[int], now: datetime) -> None:
    if row_ids:
        conn.execute(
            update(notify_outbox)
            .where(notify_outbox.c.id.in_(row_ids))
            .values(status=OutboxStatus.SENT, sent_at=now, last_error=None)
        )


def record_failure(
    conn: Connection, row: OutboxRow, error: str, now: datetime, policy: RetryPolicy
) -> str:
    """Schedule a retry, or give up after the last attempt; returns the new status."""
    error = error[:MAX_ERROR_LENGTH]
    if row.attempts >= policy.max_attempts:
        conn.execute(
            update(notify_outbox)
            .where(notify_outbox.c.id == row.id)
            .values(status=OutboxStatus.FAILED, last_error=error)
        )
        return OutboxStatus.FAILED
    conn.execute(
        update(notify_outbox)
        .where(notify_outbox.c.id == row.id)
        .values(not_before=now + policy.delay_after(row.attempts), last_error=error)
    )
    return OutboxStatus.PENDING
