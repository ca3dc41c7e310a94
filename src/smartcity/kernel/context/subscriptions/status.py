"""Notification outcomes, gathered in memory and written to the store in batches.

Recording an outcome is a dictionary update on the event loop; a flush turns everything
gathered since the last one into one executemany UPDATE, so the delivery hot path never
waits on the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcity.kernel.context.subscriptions import repository
from smartcity.kernel.storage import Store


@dataclass
class PendingStatus:
    """Outcomes of one subscription's notifications not yet written."""

    sent: int = 0
    failed: int = 0
    notification: datetime | None = None
    success: datetime | None = None
    failure: datetime | None = None


def _latest(current: datetime | None, instant: datetime) -> datetime:
    return instant if current is None or instant > current else current


class StatusRecorder:
    """Collects outcomes per subscription; :meth:`flush` writes them in one batch."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[tuple[str, str], PendingStatus] = {}

    def record(self, tenant: str, subscription_id: str, *, succeeded: bool, at: datetime) -> None:
        """Note one notification's outcome."""
        status = self._pending.setdefault((tenant, subscription_id), PendingStatus())
        status.sent += 1
        status.notification = _latest(status.notification, at)
        if succeeded:
            status.success = _latest(status.success, at)
        else:
            status.failed += 1
            status.failure = _latest(status.failure, at)

    @property
    def pending(self) -> bool:
        """Whether outcomes wait to be written."""
        return bool(self._pending)

    def take(self) -> list[dict[str, Any]]:
        """Hand over everything gathered so far as rows for :func:`repository.record_statuses`."""
        pending, self._pending = self._pending, {}
        return [
            {
                "tenant": tenant,
                "id": subscription_id,
                "sent": status.sent,
                "failed": status.failed,
                "notification": status.notification,
                "success": status.success,
                "failure": status.failure,
            }
            for (tenant, subscription_id), status in pending.items()
        ]

    def write(self, changes: list[dict[str, Any]]) -> None:
        """Write taken outcomes (blocking; the notifier runs it in a worker thread)."""
        if not changes:
            return
        with self._store.begin() as conn:
            repository.record_statuses(conn, changes)
