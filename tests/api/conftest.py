"""A platform with a probe app, served through ``create_app``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.kernel.app import App
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

BODY_LIMIT = 1024

PROBE = App(name="probe", setup=lambda _platform: None, routes_module="tests.api.probe_routes")


@pytest.fixture
def platform(store: Store, tmp_path: Path) -> Platform:
    settings = Settings(data_dir=tmp_path, max_body_bytes=BODY_LIMIT)
    return Platform.open(settings, apps=[PROBE], store=store, migrate=False)


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client
