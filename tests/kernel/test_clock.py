"""Clocks: real, fixed and accelerated."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from smartcity.kernel.clock import AcceleratedClock, Clock, FixedClock, RealClock

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_real_clock_is_aware_utc_and_current() -> None:
    clock: Clock = RealClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(START)
    assert clock.now() == clock.now() == START
    assert clock.advance(timedelta(hours=1)) == START + timedelta(hours=1)
    clock.set(START + timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)


def test_fixed_clock_normalises_to_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    clock = FixedClock(datetime(2026, 11, 21, 17, 0, tzinfo=beijing))
    assert clock.now() == START
    assert clock.now().utcoffset() == timedelta(0)


def test_fixed_clock_never_runs_backwards() -> None:
    clock = FixedClock(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="backwards"):
        clock.set(START - timedelta(seconds=1))
    assert clock.now() == START


def test_clocks_need_aware_start_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        AcceleratedClock(datetime(2026, 1, 1), factor=2)


def test_accelerated_clock_runs_faster_than_real_time() -> None:
    clock = AcceleratedClock(START, factor=3600)
    assert clock.factor == 3600
    first = clock.now()
    time.sleep(0.01)
    second = clock.now()
    # 10 ms of real time is at least 36 s of simulated time.
    assert second - first >= timedelta(seconds=36)
    assert first >= START


def test_accelerated_clock_needs_a_positive_factor() -> None:
    with pytest.raises(ValueError, match="positive"):
        AcceleratedClock(START, factor=0)
