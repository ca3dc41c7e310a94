"""Clients for the operations centre: over an empty store and over a seeded tiny city."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

TINY_CITY_SEED = 20101


def client_for(store: Store, data_dir: Path) -> TestClient:
    platform = Platform.open(
        Settings(data_dir=data_dir), apps=installed_apps(), store=store, migrate=False
    )
    return TestClient(create_app(platform))


@pytest.fixture
def empty_client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    """The platform over an empty (migrated) store."""
    with client_for(store, tmp_path) as client:
        yield client


@pytest.fixture
def city_client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    """The platform over a store seeded with the tiny city."""
    from smartcity.sim.city import seed_city
    from smartcity.sim.profiles import TINY
    from smartcity.sim.progress import SilentProgress

    seed_city(store, profile=TINY, seed=TINY_CITY_SEED, progress=SilentProgress())
    with client_for(store, tmp_path) as client:
        yield client
