from __future__ import annotations

import pytest
from sqlalchemy import select, text

from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.storage import Store, open_store
from smartcity.kernel.storage.migrate import current_heads, script_heads
from smartcity.kernel.storage.tables import platform_meta


def test_migrated_store_is_at_every_head(store: Store) -> None:
    assert current_heads(store) == script_heads()


def test_failed_transaction_leaves_nothing(store: Store, clock) -> None:
    with pytest.raises(RuntimeError), store.begin() as conn:
        conn.execute(platform_meta.insert().values(key="k", value="v", updated_at=clock.now()))
        raise RuntimeError("boom")
    with store.connect() as conn:
        assert conn.execute(select(platform_meta)).all() == []


def test_bulk_insert_writes_every_row(store: Store, clock) -> None:
    rows = [{"key": f"k{i}", "value": str(i), "updated_at": clock.now()} for i in range(500)]
    with store.begin() as conn:
        assert store.bulk_insert(conn, platform_meta, rows) == 500
    with store.connect() as conn:
        values = conn.execute(select(platform_meta.c.value).order_by(platform_meta.c.key)).all()
    assert sorted(int(v[0]) for v in values) == list(range(500))


def test_analyze_gives_the_planner_statistics_of_the_loaded_rows(store: Store, clock) -> None:
    rows = [{"key": f"k{i}", "value": str(i), "updated_at": clock.now()} for i in range(300)]
    with store.begin() as conn:
        store.bulk_insert(conn, platform_meta, rows)
    store.analyze()
    if store.dialect != "postgresql":
        return  # SQLite: nothing to refresh, and nothing fails
    with store.connect() as conn:
        estimated = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'platform_meta'")
        ).scalar_one()
    assert estimated == 300


def test_unknown_database_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unsupported database"):
        open_store("mysql://x@localhost/db")


def test_a_reader_does_not_block_a_writer(store: Store, clock) -> None:
    with store.connect() as reader:
        reader.execute(select(platform_meta)).all()
        # The read transaction is still open; a writer must still get through.
        with store.begin() as writer:
            writer.execute(
                platform_meta.insert().values(key="w", value="1", updated_at=clock.now())
            )
    with store.connect() as conn:
        assert conn.execute(select(platform_meta.c.key)).scalars().all() == ["w"]


def test_instants_come_back_as_the_same_utc_instant(store: Store) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    beijing = timezone(timedelta(hours=8))
    written = datetime(2026, 1, 1, 8, 0, 0, 123456, tzinfo=beijing)
    with store.begin() as conn:
        conn.execute(platform_meta.insert().values(key="t", value="1", updated_at=written))
    with store.connect() as conn:
        read = conn.execute(select(platform_meta.c.updated_at)).scalar_one()
    assert read == written
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert read == datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


def test_a_naive_instant_is_refused(store: Store) -> None:
    from datetime import datetime

    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="no time zone"), store.begin() as conn:
        conn.execute(
            platform_meta.insert().values(key="n", value="1", updated_at=datetime(2026, 1, 1))
        )


def test_bulk_rows_are_stored_exactly_like_single_inserts(store: Store) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    whole_second = datetime(2026, 1, 1, 1, 0, 0, tzinfo=UTC)
    with store.begin() as conn:
        conn.execute(platform_meta.insert().values(key="one", value="1", updated_at=whole_second))
        store.bulk_insert(
            conn, platform_meta, [{"key": "bulk", "value": "1", "updated_at": whole_second}]
        )
    with store.connect() as conn:
        stored = dict(
            conn.execute(text("SELECT key, CAST(updated_at AS TEXT) FROM platform_meta")).all()
        )
        # Compared in SQL, as boundary queries do: both rows sit at the same instant.
        at_instant = conn.execute(
            select(platform_meta.c.key).where(platform_meta.c.updated_at == whole_second)
        ).scalars()
        assert sorted(at_instant) == ["bulk", "one"]
    assert stored["bulk"] == stored["one"]
