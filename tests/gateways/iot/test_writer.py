"""Where MQTT batches are written: a thread, or a worker process with its events sent back."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from smartcity.gateways.iot import IotAgent
from smartcity.gateways.iot.agent import Update
from smartcity.gateways.iot.mqtt import writer_for
from smartcity.gateways.iot.writer import (
    ProcessWriter,
    ThreadWriter,
    lanes_for,
    split_by_entity,
    worker_engine_options,
    write_batch,
)
from smartcity.kernel.bus import Event
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.context.events import EntityChanged
from smartcity.kernel.context.tables import context_instance, context_series
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from tests.conftest import BACKEND, PG_URL
from tests.crash import sigkill_pid
from tests.gateways.iot.conftest import DEFAULT, RecordingLibrary, air_station

ENTITY = "urn:ngsi-ld:AirQualityObserved:aq-1"
TEMPERATURE = DEFAULT + "temperature"


class RecordingBus:
    """Keeps what the parent process publishes."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)


class RefusingLibrary(RecordingLibrary):
    """Refuses every batch of measures for ``refused`` (as the library reports a bad entity)."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    def upsert_entities(self, tenant: str, entities: Sequence[dict[str, Any]], mode: str) -> Any:
        if any(entity["id"] == self.refused and TEMPERATURE in entity for entity in entities):
            return {"success": [], "errors": [{"entityId": self.refused, "error": "refused"}]}
        return super().upsert_entities(tenant, entities, mode)


def test_a_worker_process_writes_batches_and_the_parent_publishes_their_events(
    platform: Platform, store: Store
) -> None:
    agent = IotAgent.for_platform(platform)
    agent.provision("env", [air_station("aq-1"), air_station("aq-2")])
    batch = [
        *agent.ultralight_updates("k3y", "aq-1", "t|20#t|21"),
        *agent.ultralight_updates("k3y", "aq-2", "t|30|p|7"),
    ]
    bus = RecordingBus()
    writer = ProcessWriter(PG_URL if BACKEND == "postgres" else store.url, bus)  # type: ignore[arg-type]
    try:
        outcome = asyncio.run(writer.write(batch))
    finally:
        writer.close()

    assert (outcome.measurements, outcome.rejected) == (4, 0)
    changed = [event for event in bus.events if isinstance(event, EntityChanged)]
    assert [event.entity_id for event in changed] == [
        ENTITY,
        "urn:ngsi-ld:AirQualityObserved:aq-2",
        ENTITY,
    ]
    with store.connect() as conn:
        history = conn.execute(
            select(context_instance.c.value_number)
            .join(context_series, context_series.c.id == context_instance.c.series_id)
            .where(context_series.c.name == TEMPERATURE)
            .order_by(context_instance.c.seq)
        ).scalars()
        assert list(history) == [20, 30, 21]


def test_a_worker_process_that_dies_is_replaced_and_the_batch_written(
    platform: Platform, store: Store
) -> None:
    agent = IotAgent.for_platform(platform)
    agent.provision("env", [air_station("aq-1")])
    writer = ProcessWriter(PG_URL if BACKEND == "postgres" else store.url, RecordingBus())  # type: ignore[arg-type]
    try:
        writer.wait_started()
        sigkill_pid(writer._pool.submit(os.getpid).result())
        outcome = asyncio.run(writer.write(agent.ultralight_updates("k3y", "aq-1", "t|5")))
    finally:
        writer.close()

    assert outcome.measurements == 1
    entity = platform.context.retrieve_entity("env", ENTITY)
    assert entity[TEMPERATURE][0]["value"] == 5


def test_one_refused_update_costs_only_itself(store: Store, clock: FixedClock) -> None:
    library = RefusingLibrary("urn:ngsi-ld:AirQualityObserved:bad")
    agent = IotAgent(store, library, clock)
    agent.provision("env", [air_station("aq-1"), air_station("bad")])
    library.calls.clear()
    batch = [
        *agent.ultralight_updates("k3y", "aq-1", "t|1|p|2"),
        *agent.ultralight_updates("k3y", "bad", "t|3"),
    ]

    writer = ThreadWriter(agent)
    try:
        outcome = asyncio.run(writer.write(batch))
    finally:
        writer.close()

    assert (outcome.measurements, outcome.rejected) == (2, 1)
    assert [entity["id"] for _, entity in library.updates()] == [ENTITY]
    assert write_batch(agent, batch[:1]).measurements == 2


def test_the_server_writes_in_a_worker_process_over_its_database_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = Platform.open(Settings(data_dir=tmp_path))
    try:
        agent = IotAgent.for_platform(platform)
        monkeypatch.delenv("SMARTCITY_MQTT_WRITER", raising=False)
        assert isinstance(writer_for(platform, agent), ThreadWriter)
        monkeypatch.setenv("SMARTCITY_MQTT_WRITER", "process")
        writer = writer_for(platform, agent)
        assert isinstance(writer, ProcessWriter)
        writer.close()
    finally:
        platform.store.close()


def test_the_writer_is_a_thread_when_a_process_could_not_open_the_same_database(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = IotAgent.for_platform(platform)
    # The test platform's store is not the database its settings name: a worker process
    # would write elsewhere, so it stays a thread.
    monkeypatch.setenv("SMARTCITY_MQTT_WRITER", "process")
    assert isinstance(writer_for(platform, agent), ThreadWriter)
    monkeypatch.setenv("SMARTCITY_MQTT_WRITER", "fork")
    with pytest.raises(ConfigurationError, match="SMARTCITY_MQTT_WRITER"):
        writer_for(platform, agent)


def test_the_worker_process_keeps_few_connections_only_on_postgresql() -> None:
    assert worker_engine_options("sqlite:///x.db") == {}
    assert worker_engine_options("postgresql://u@h/db") == {"pool_size": 2, "max_overflow": 2}


def history_of(store: Store, name: str) -> dict[str, list[Any]]:
    """Each entity's values of attribute ``name``, in the order they were stored."""
    with store.connect() as conn:
        rows = conn.execute(
            select(context_series.c.entity_id, context_instance.c.value_number)
            .join(context_series, context_series.c.id == context_instance.c.series_id)
            .where(context_series.c.name == name)
            .order_by(context_instance.c.seq)
        )
        values: dict[str, list[Any]] = {}
        for entity_id, value in rows:
            values.setdefault(entity_id, []).append(value)
    return values


def test_lanes_write_every_measure_and_each_devices_in_the_order_they_arrived(
    platform: Platform, store: Store
) -> None:
    agent = IotAgent.for_platform(platform)
    devices = [f"aq-{n}" for n in range(8)]
    agent.provision("env", [air_station(device) for device in devices])
    batches = [
        [
            update
            for reading in range(start, start + 3)
            for device in devices
            for update in agent.ultralight_updates("k3y", device, f"t|{reading}")
        ]
        for start in (0, 3)
    ]
    writer = ThreadWriter(agent, lanes=3)
    try:
        outcomes = [asyncio.run(writer.write(batch)) for batch in batches]
    finally:
        writer.close()

    assert [(o.measurements, o.rejected) for o in outcomes] == [(24, 0), (24, 0)]
    history = history_of(store, TEMPERATURE)
    assert history == {
        f"urn:ngsi-ld:AirQualityObserved:{device}": [0, 1, 2, 3, 4, 5] for device in devices
    }


@given(
    st.lists(st.tuples(st.sampled_from("abcdefg"), st.sampled_from(["", "t2"]))), st.integers(1, 4)
)
def test_a_batch_is_split_with_each_entity_in_one_lane_in_order(
    keys: list[tuple[str, str]], lanes: int
) -> None:
    batch = [
        Update(tenant, {"id": entity_id, "type": ["T"], "n": [{"value": n}]})
        for n, (entity_id, tenant) in enumerate(keys)
    ]

    parts = split_by_entity(batch, lanes)

    assert 0 < len(parts) <= lanes or not batch
    assert all(parts)
    assert sorted(u.entity["n"][0]["value"] for part in parts for u in part) == list(
        range(len(batch))
    )
    lane_of = {}
    for lane, part in enumerate(parts):
        for update in part:
            assert lane_of.setdefault((update.tenant, update.entity["id"]), lane) == lane
        values = [u.entity["n"][0]["value"] for u in part]
        assert values == sorted(values)


def test_the_thread_writer_has_two_lanes_on_postgresql_and_one_on_sqlite(
    platform: Platform,
) -> None:
    writer = writer_for(platform, IotAgent.for_platform(platform))
    try:
        assert isinstance(writer, ThreadWriter)
        assert writer.lanes == lanes_for(platform.store) == (2 if BACKEND == "postgres" else 1)
    finally:
        writer.close()
