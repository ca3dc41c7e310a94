"""An app with the identity routes, a fixed clock, a small registry and cheap argon2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.api.identity.services import IdentityServices
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.identity.totp import TotpCipher
from smartcity.kernel.platform import Platform
from smartcity.kernel.secrets import secret_bytes
from smartcity.kernel.storage import Store
from tests.kernel.identity.people import FAST_HASHER, People, seed_people


@pytest.fixture
def people(store: Store) -> People:
    return seed_people(store)


@pytest.fixture
def identity_platform(store: Store, tmp_path: Path, clock: FixedClock) -> Platform:
    return Platform.open(Settings(data_dir=tmp_path), store=store, clock=clock, migrate=False)


@pytest.fixture
def auth_client(identity_platform: Platform, people: People) -> Iterator[TestClient]:
    application = create_app(identity_platform)
    key = secret_bytes(identity_platform.settings.data_dir, "totp_key")
    application.state.identity = IdentityServices(hasher=FAST_HASHER, cipher=TotpCipher(key))
    with TestClient(application, raise_server_exceptions=False) as client:
        yield client
