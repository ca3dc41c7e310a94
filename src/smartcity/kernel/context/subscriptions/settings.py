"""Tuning and counters of the notifier."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotifierSettings:
    """Delivery tuning. Attempt ``n`` (from 1) waits ``retry_base_delay * 2**(n-1)`` after
    failing, capped at ``retry_max_delay``; ``max_attempts`` counts the first try."""

    max_attempts: int = 4
    retry_base_delay: float = 0.5
    retry_max_delay: float = 30.0
    request_timeout: float = 5.0
    queue_size: int = 10_000
    status_flush_interval: float = 0.5
    failing_probe_interval: float = 1.0
    endpoint_lanes: int = 4
    periodic_limit: int = 1000
    # How long a server shutdown waits for queued notifications to be delivered before
    # it cancels the rest (a dead endpoint must not hold the shutdown for ever).
    shutdown_grace: float = 5.0


@dataclass
class NotifierStats:
    """Counters for monitoring and benchmarks."""

    delivered: int = 0
    failed: int = 0
    retried: int = 0
    dropped: int = 0
    throttled: int = 0
    matched: int = 0
