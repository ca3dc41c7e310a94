"""Injectable clocks.

Every deadline, timestamp and simulation step reads time through a :class:`Clock`, so
tests can freeze it and simulations can run the city faster than real time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current time (always timezone-aware UTC)."""

    def now(self) -> datetime:
        """The current instant, UTC."""
        ...


class RealClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("a clock never runs backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> None:
        """Jump to ``instant`` (must not be earlier than now)."""
        with self._lock:
            target = instant.astimezone(UTC)
            if target < self._now:
                raise ValueError("a clock never runs backwards")
            self._now = target


class AcceleratedClock:
    """Simulation time: starts at ``start`` and runs ``factor`` times faster than real time."""

    def __init__(self, start: datetime, factor: float) -> None:
        if factor <= 0:
            raise ValueError("acceleration factor must be positive")
        if start.tzinfo is None:
            raise ValueError("AcceleratedClock needs a timezone-aware start time")
        self._start = start.astimezone(UTC)
        self._factor = factor
        self._origin = time.monotonic()

    @property
    def factor(self) -> float:
        return self._factor

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self._factor
        return self._start + timedelta(seconds=elapsed)
