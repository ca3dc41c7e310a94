"""The serving process's collector settings (smartcity.api.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.api.app import build
from smartcity.api.collector import YOUNG_THRESHOLD, restore_collector, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        restore_collector()
        assert gc.get_threshold() == thresholds
        assert gc.get_freeze_count() == 0


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


def test_the_served_app_tunes_the_collector_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTCITY_DATA_DIR", str(tmp_path))
    thresholds = gc.get_threshold()
    with TestClient(build()) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
