"""PostgreSQL: the store's connections run without JIT compilation, for good."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from smartcity.kernel.storage import Store, open_store


def test_every_connection_runs_without_jit_also_after_a_rollback(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    url = store.engine.url.render_as_string(hide_password=False)
    fresh = open_store(url, pool_size=1)
    try:
        with fresh.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar_one() == "off"
            conn.rollback()
            assert conn.execute(text("SHOW jit")).scalar_one() == "off"
        # The same pooled connection once more, after the pool's reset.
        with fresh.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar_one() == "off"
    finally:
        fresh.close()
