from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # The platform runs on asyncio (uvicorn); LocalBus uses asyncio primitives directly.
    return "asyncio"
