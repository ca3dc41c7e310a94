"""The serving process's collector settings (smartcity.api.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from smartcity.api.collector import YOUNG_THRESHOLD, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_started_objects_leave_the_collector_and_it_runs_less_often(
    restored_collector: None,
) -> None:
    started = [{"route": n} for n in range(1000)]
    tune_collector()
    assert gc.get_freeze_count() >= len(started)
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.isenabled()


def test_cycles_made_after_startup_are_still_freed(restored_collector: None) -> None:
    tune_collector()

    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first  # type: ignore[attr-defined]
    del first, second
    assert gc.collect() >= 2
