"""A generated tiny city shared by the geo tests (generating it once keeps them fast)."""

from __future__ import annotations

import pytest

from smartcity.sim.geography import Geography, generate_geography
from smartcity.sim.profiles import TINY

TINY_SEED = 20101


@pytest.fixture(scope="session")
def tiny_geography() -> Geography:
    """The TINY profile's geography for seed 20101, in memory."""
    return generate_geography(profile=TINY, seed=TINY_SEED)
