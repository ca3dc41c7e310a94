"""Migration 0021 moves the existing history onto series (decision 0014)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from smartcity.kernel.storage import open_store
from smartcity.kernel.storage.migrate import alembic_config

INSERT = (
    "INSERT INTO context_instance (tenant, entity_id, entity_type, name, dataset_id,"
    " instance_id, kind, value_number, value_json, observed_at, recorded_at, deleted)"
    " VALUES (:tenant, :entity, 'T', :name, '', :instance, 'Property', :value, '{}',"
    " '2026-11-20 00:00:00', '2026-11-20 00:00:00', false)"
)


def test_existing_history_rows_get_their_series(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        config = alembic_config()
        with store.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0014_context_instance_indexes")
        rows = [
            {"tenant": t, "entity": e, "name": n, "instance": f"i{k}", "value": float(k)}
            for k, (t, e, n) in enumerate(
                [("", "a", "x"), ("", "a", "x"), ("", "a", "y"), ("other", "a", "x")]
            )
        ]
        with store.begin() as conn:
            conn.execute(text(INSERT), rows)
        with store.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0021_context_series")
        with store.connect() as conn:
            series = conn.execute(
                text("SELECT tenant, entity_id, name, id FROM context_series ORDER BY id")
            ).all()
            history = conn.execute(
                text("SELECT instance_id, series_id FROM context_instance ORDER BY seq")
            ).all()
        ids = {(tenant, entity, name): number for tenant, entity, name, number in series}
        assert len(ids) == 3
        assert [series_id for _, series_id in history] == [
            ids[("", "a", "x")],
            ids[("", "a", "x")],
            ids[("", "a", "y")],
            ids[("other", "a", "x")],
        ]
    finally:
        store.close()
