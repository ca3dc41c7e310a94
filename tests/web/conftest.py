"""A platform serving the web shell with a probe app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from tests.web.probe import APP as PROBE


@pytest.fixture
def web_client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    platform = Platform.open(Settings(data_dir=tmp_path), apps=[PROBE], store=store, migrate=False)
    with TestClient(create_app(platform)) as client:
        yield client
