"""Provisioning and ingestion through the IoT agent (store on the run's backend)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from smartcity.gateways.iot import IotAgent
from smartcity.gateways.iot import agent as agent_module
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from smartcity.kernel.storage import Store
from tests.gateways.iot.conftest import DEFAULT, RecordingLibrary, air_station

TEMPERATURE = DEFAULT + "temperature"


def test_provisioning_creates_the_entity_with_its_static_attributes(
    agent: IotAgent, library: RecordingLibrary
) -> None:
    agent.provision("env", [air_station()])

    [(tenant, entity)] = library.updates()
    assert tenant == "env"
    assert entity["id"] == "urn:ngsi-ld:AirQualityObserved:aq-1"
    assert entity["type"] == [DEFAULT + "AirQualityObserved"]
    assert entity[DEFAULT + "refDistrict"] == [
        {"type": "Relationship", "object": "urn:ngsi-ld:AdministrativeArea:440103"}
    ]
    assert library.calls[0][2] == "update"


def test_a_device_id_is_provisioned_once(agent: IotAgent) -> None:
    agent.provision("env", [air_station()])
    with pytest.raises(AlreadyExists, match="aq-1"):
        agent.provision("env", [air_station()])


def test_a_batch_with_a_taken_id_stores_no_device(agent: IotAgent) -> None:
    agent.provision("env", [air_station("aq-1")])
    with pytest.raises(AlreadyExists):
        agent.provision("env", [air_station("aq-2"), air_station("aq-1")])
    assert [d.device_id for d in agent.list_devices("env")] == ["aq-1"]


def test_devices_are_listed_read_and_deleted_per_tenant(agent: IotAgent) -> None:
    agent.provision("env", [air_station("aq-2"), air_station("aq-1")])
    agent.provision("water", [air_station("wm-1", apikey="other")])

    assert [d.device_id for d in agent.list_devices("env")] == ["aq-1", "aq-2"]
    document = agent.get_device("env", "aq-1").document()
    assert document["attributes"][0] == {
        "object_id": "t",
        "name": "temperature",
        "type": "Property",
        "unitCode": "CEL",
    }
    assert "apikey" not in document
    with pytest.raises(ResourceNotFound):
        agent.get_device("water", "aq-1")
    agent.delete_device("env", "aq-1")
    with pytest.raises(ResourceNotFound):
        agent.delete_device("env", "aq-1")
    with pytest.raises(ResourceNotFound, match="no device 'aq-1'"):
        agent.ingest_json("k3y", "aq-1", b'{"t": 1}')


def test_json_measures_become_attributes_observed_on_receipt(
    agent: IotAgent, library: RecordingLibrary, clock: FixedClock
) -> None:
    agent.provision("env", [air_station()])
    clock.advance(timedelta(minutes=5))

    assert agent.ingest_json("k3y", "aq-1", b'{"t": 21.5, "p": 35, "noise": "low"}') == 3

    tenant, entity = library.updates()[-1]
    assert tenant == "env"
    assert entity[TEMPERATURE] == [
        {
            "type": "Property",
            "value": 21.5,
            "observedAt": "2026-11-21T09:05:00.000Z",
            "unitCode": "CEL",
        }
    ]
    assert entity[DEFAULT + "noise"][0]["value"] == "low"


def test_device_time_is_observed_at_and_naive_time_is_the_devices_timezone(
    agent: IotAgent, library: RecordingLibrary
) -> None:
    agent.provision("env", [air_station()])

    agent.ingest_json("k3y", "aq-1", b'{"t": 20, "TimeInstant": "2026-11-21T08:00:00"}')
    agent.ingest_ultralight("k3y", "aq-1", "2026-11-21T01:00:00Z|t|19#t|18|l|113.3,23.1")

    observed = [e[TEMPERATURE][0]["observedAt"] for _, e in library.updates()[1:]]
    assert observed == [
        "2026-11-21T00:00:00.000Z",
        "2026-11-21T01:00:00.000Z",
        "2026-11-21T09:00:00.000Z",
    ]
    last = library.updates()[-1][1]
    assert last[TEMPERATURE][0]["value"] == 18
    assert last["https://uri.etsi.org/ngsi-ld/location"][0]["value"] == {
        "type": "Point",
        "coordinates": [113.3, 23.1],
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "no measures"),
        (b'{"t": 1, "TimeInstant": "yesterday"}', "not ISO 8601"),
        (b'{"l": "north"}', "longitude,latitude"),
        (b'{"l": {"type": "Point", "coordinates": []}}', "empty"),
    ],
)
def test_malformed_json_is_refused_with_a_reason(agent: IotAgent, body: bytes, reason: str) -> None:
    agent.provision("env", [air_station()])
    with pytest.raises(BadRequestData, match=reason):
        agent.ingest_json("k3y", "aq-1", body)


def test_wrong_api_key_finds_no_device(agent: IotAgent) -> None:
    agent.provision("env", [air_station()])
    with pytest.raises(ResourceNotFound, match="under this API key"):
        agent.ingest_ultralight("wrong", "aq-1", "t|1")


def test_readings_of_one_sensor_in_a_batch_stay_separate_instants(
    agent: IotAgent, library: RecordingLibrary
) -> None:
    agent.provision("env", [air_station("aq-1"), air_station("aq-2")])
    before = len(library.calls)
    updates = [
        *agent.ultralight_updates("k3y", "aq-1", "t|1#t|2"),
        *agent.ultralight_updates("k3y", "aq-2", "t|3"),
    ]

    assert agent.write(updates) == 3
    rounds = [[e["id"][-4:] for e in entities] for _, entities, _ in library.calls[before:]]
    assert rounds == [["aq-1", "aq-2"], ["aq-1"]]


def test_a_large_round_is_written_in_bounded_calls_in_order(
    agent: IotAgent, library: RecordingLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent.provision("env", [air_station(f"aq-{n}") for n in range(5)])
    before = len(library.calls)
    monkeypatch.setattr(agent_module, "ENTITIES_PER_WRITE", 2)
    updates = [
        update
        for n in (0, 1, 2, 3, 4, 0)
        for update in agent.ultralight_updates("k3y", f"aq-{n}", f"t|{n}")
    ]

    assert agent.write(updates) == 6
    calls = [[e["id"][-4:] for e in entities] for _, entities, _ in library.calls[before:]]
    assert calls == [["aq-0", "aq-1"], ["aq-2", "aq-3"], ["aq-4"], ["aq-0"]]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"apikey": "k"}, "device_id"),
        ({"device_id": "a b", "apikey": "k"}, "device_id"),
        ({"device_id": "d", "apikey": "k", "timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"device_id": "d", "apikey": "k", "entity_name": "not a uri"}, "not a URI"),
        (
            {
                "device_id": "d",
                "apikey": "k",
                "attributes": [{"name": "x", "type": "Relationship"}],
            },
            "Property or GeoProperty",
        ),
        (
            {
                "device_id": "d",
                "apikey": "k",
                "static_attributes": [{"name": "r", "type": "Relationship"}],
            },
            "has no object",
        ),
        (
            {
                "device_id": "d",
                "apikey": "k",
                "static_attributes": [
                    {"name": "location", "type": "GeoProperty", "value": {"type": "Point"}}
                ],
            },
            "GeoJSON geometry",
        ),
        (
            {
                "device_id": "d",
                "apikey": "k",
                "static_attributes": [
                    {
                        "name": "location",
                        "type": "GeoProperty",
                        "value": {"type": "Point", "coordinates": [500, 1]},
                    }
                ],
            },
            "outside WGS 84",
        ),
    ],
)
def test_bad_provisioning_documents_are_refused(
    agent: IotAgent, document: dict[str, object], reason: str
) -> None:
    with pytest.raises(BadRequestData, match=reason):
        agent.provision("", [document])


def test_a_device_deleted_through_another_worker_is_refused_once_the_cache_is_checked(
    agent: IotAgent,
    store: Store,
    library: RecordingLibrary,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other_worker = IotAgent(store, library, clock)
    agent.provision("env", [air_station("aq-1")])
    assert agent.ingest_ultralight("k3y", "aq-1", "t|1") == 1
    other_worker.delete_device("env", "aq-1")
    monkeypatch.setattr(agent_module, "CACHE_SECONDS", 0.0)
    with pytest.raises(ResourceNotFound):
        agent.ingest_ultralight("k3y", "aq-1", "t|2")


def test_a_device_provisioned_through_another_worker_is_found_once_the_cache_is_checked(
    agent: IotAgent,
    store: Store,
    library: RecordingLibrary,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other_worker = IotAgent(store, library, clock)
    agent.provision("env", [air_station("aq-1")])
    with pytest.raises(ResourceNotFound):
        agent.ingest_ultralight("k3y", "aq-2", "t|1")
    other_worker.provision("env", [air_station("aq-2")])
    monkeypatch.setattr(agent_module, "CACHE_SECONDS", 0.0)
    assert agent.ingest_ultralight("k3y", "aq-2", "t|1") == 1


def test_unmapped_measures_pass_through_under_their_own_name_every_time(
    agent: IotAgent, library: RecordingLibrary
) -> None:
    agent.provision("env", [air_station()])
    for value in (1, 2):
        agent.ingest_ultralight("k3y", "aq-1", f"humidity|{value}")
    assert [entity[DEFAULT + "humidity"][0]["value"] for _, entity in library.updates()[-2:]] == [
        1,
        2,
    ]


@pytest.fixture
def restarted(store: Store, library: RecordingLibrary, clock: FixedClock) -> Callable[[], IotAgent]:
    """A new agent over the same store and library: its device cache starts empty."""
    return lambda: IotAgent(store, library, clock)


def test_the_first_message_of_an_api_key_loads_all_its_devices_in_one_query(
    agent: IotAgent, restarted: Callable[[], IotAgent], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent.provision("env", [air_station(f"aq-{n}") for n in range(5)])
    queries: list[str] = []
    for name in ("devices_of_key", "find_device"):
        real = getattr(agent_module.registry, name)
        monkeypatch.setattr(
            agent_module.registry,
            name,
            lambda *args, _real=real, _name=name, **kwargs: (
                queries.append(_name) or _real(*args, **kwargs)
            ),
        )
    started = restarted()

    assert sum(started.ingest_ultralight("k3y", f"aq-{n}", "t|1") for n in range(5)) == 5
    with pytest.raises(ResourceNotFound):
        started.ingest_ultralight("k3y", "aq-9", "t|1")
    with pytest.raises(ResourceNotFound):
        started.ingest_ultralight("wrong", "aq-1", "t|1")
    assert queries == ["devices_of_key", "devices_of_key"]


def test_a_key_with_more_devices_than_one_load_holds_finds_each_of_them(
    agent: IotAgent, restarted: Callable[[], IotAgent], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_module, "DEVICES_PER_KEY", 2)
    agent.provision("env", [air_station(f"aq-{n}") for n in range(3)])
    started = restarted()

    assert sum(started.ingest_ultralight("k3y", f"aq-{n}", "t|1") for n in range(3)) == 3
    with pytest.raises(ResourceNotFound):
        started.ingest_ultralight("k3y", "aq-9", "t|1")


def test_a_device_provisioned_after_its_key_was_loaded_is_found_at_once(agent: IotAgent) -> None:
    agent.provision("env", [air_station("aq-1")])
    assert agent.ingest_ultralight("k3y", "aq-1", "t|1") == 1
    with pytest.raises(ResourceNotFound):
        agent.ingest_ultralight("k3y", "aq-2", "t|1")

    agent.provision("env", [air_station("aq-2")])

    assert agent.ingest_ultralight("k3y", "aq-2", "t|1") == 1
