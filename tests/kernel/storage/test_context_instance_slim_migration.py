"""Migration 0022 slims the existing history rows to their series id (decision 0016).

History written in the old shape (each row repeating its series' key and a stored
instanceId) reads back through the temporal API after the upgrade, per tenant, with
instanceIds derived from the rows' numbers. Both backends: the store is taken back to
0021, filled, and upgraded again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from smartcity.kernel.context.temporal import TemporalHistory
from smartcity.kernel.context.temporal_params import TemporalQuery
from smartcity.kernel.context.temporal_representation import normalized
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.migrate import alembic_config
from tests.kernel.context.test_temporal_support import iri

STATION = "urn:ngsi-ld:AirQualityObserved:station-1"
SERIES = (
    "INSERT INTO context_series (id, tenant, entity_id, name, dataset_id, entity_type)"
    " VALUES (:id, :tenant, :entity, :name, :dataset, :type)"
)
HISTORY = (
    "INSERT INTO context_instance (seq, series_id, tenant, entity_id, entity_type, name,"
    " dataset_id, instance_id, kind, value_number, value_json, observed_at, recorded_at,"
    " deleted) VALUES (:seq, :series, :tenant, :entity, :type, :name, :dataset,"
    " :instance, 'Property', :value, :json, :at, :at, :deleted)"
)


def _rows() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    series = [
        {"id": 1, "tenant": "", "entity": STATION, "name": iri("no2"), "dataset": ""},
        {"id": 2, "tenant": "", "entity": STATION, "name": iri("no2"), "dataset": "urn:d:b"},
        {"id": 3, "tenant": "other", "entity": STATION, "name": iri("no2"), "dataset": ""},
    ]
    for one in series:
        one["type"] = iri("AirQualityObserved")
    history = []
    # (series, value, hour, deleted): the last one records a deletion, not a value.
    written = [
        (1, 10.0, 1, False),
        (1, 11.0, 2, False),
        (2, 20.0, 1, False),
        (3, 99.0, 1, False),
        (1, 12.0, 3, True),
    ]
    for seq, (series_id, value, hour, deleted) in enumerate(written, start=1):
        key = series[series_id - 1]
        dataset = key["dataset"]
        document = {"type": "Property", "value": value}
        if dataset:
            document["datasetId"] = str(dataset)
        history.append(
            {
                "seq": seq,
                "series": series_id,
                "tenant": key["tenant"],
                "entity": key["entity"],
                "type": key["type"],
                "name": key["name"],
                "dataset": dataset,
                "instance": f"urn:ngsi-ld:attribute:instance:{seq}-{series_id}-uuid",
                "value": value,
                "json": str(document).replace("'", '"'),
                "at": datetime(2026, 11, 20, hour, tzinfo=UTC),
                "deleted": deleted,
            }
        )
    return series, history


def test_old_history_rows_read_back_through_the_temporal_api(store: Store) -> None:
    config = alembic_config()
    with store.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0021_context_series")
    series, history = _rows()
    try:
        with store.begin() as conn:
            conn.execute(text(SERIES), series)
            conn.execute(text(HISTORY), history)
    finally:
        store.migrate()
    with store.connect() as conn:
        columns = conn.execute(text("SELECT * FROM context_instance")).keys()
    assert "entity_id" not in columns and "instance_id" not in columns
    reader = TemporalHistory(store)
    entity = reader.retrieve("", STATION, TemporalQuery())
    assert entity.type == iri("AirQualityObserved")
    assert [(i.dataset_id, i.attribute["value"]) for i in entity.instances] == [
        ("", 10.0),
        ("", 11.0),
        ("urn:d:b", 20.0),
    ]
    assert [i.instance_id for i in entity.instances] == [
        "urn:ngsi-ld:attribute:instance:1",
        "urn:ngsi-ld:attribute:instance:2",
        "urn:ngsi-ld:attribute:instance:3",
    ]
    document = normalized(entity, sys_attrs=True)
    assert document[iri("no2")][0]["instanceId"] == "urn:ngsi-ld:attribute:instance:1"
    [theirs] = reader.query("other", TemporalQuery(ids=(STATION,))).entities
    assert [i.attribute["value"] for i in theirs.instances] == [99.0]
    latest = reader.retrieve("", STATION, TemporalQuery(last_n=1))
    assert [i.attribute["value"] for i in latest.instances] == [11.0, 20.0]
