"""Fixtures: a running bus and notifier on the test's store and frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from smartcity.kernel.bus.local import LocalBus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.events import ChangeOperation, EntityChanged
from smartcity.kernel.context.subscriptions import (
    Notifier,
    NotifierSettings,
    SubscriptionActions,
)
from smartcity.kernel.storage import Store

VOCABULARY = "https://uri.etsi.org/ngsi-ld/default-context/"
FAST = NotifierSettings(
    max_attempts=3,
    retry_base_delay=0.01,
    # Generous: slow-endpoint tests hold requests open for as long as the machine needs.
    request_timeout=30.0,
    status_flush_interval=0.05,
    failing_probe_interval=0.0,
)


def iri(name: str) -> str:
    """A name in the default vocabulary, unless it already is an IRI."""
    return name if "://" in name else VOCABULARY + name


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Running:
    """A started bus and notifier, and the actions that manage subscriptions."""

    bus: LocalBus
    notifier: Notifier
    actions: SubscriptionActions
    clock: FixedClock

    def change(
        self,
        entity_id: str = "urn:ngsi-ld:AirQualityObserved:1",
        attributes: Mapping[str, Any] | None = None,
        *,
        kind: str = "AirQualityObserved",
        operation: ChangeOperation = "update",
        tenant: str = "",
        changed: tuple[str, ...] | None = None,
    ) -> None:
        """Publish an EntityChanged as the library would after a commit."""
        values = {"NO2": 22.0} if attributes is None else attributes
        entity: dict[str, Any] = {
            "id": entity_id,
            "type": [VOCABULARY + kind],
            "createdAt": "2026-11-21T09:00:00.000Z",
            "modifiedAt": "2026-11-21T09:00:00.000Z",
        }
        for name, value in values.items():
            entity[iri(name)] = [{"type": "Property", "value": value}]
        self.bus.publish(
            EntityChanged(
                tenant=tenant,
                entity_id=entity_id,
                types=(VOCABULARY + kind,),
                operation=operation,
                attributes=tuple(iri(name) for name in (changed or tuple(values))),
                entity=entity,
                at=self.clock.now(),
            )
        )

    def advance(self, seconds: float) -> None:
        """Move the frozen clock forward."""
        self.clock.advance(timedelta(seconds=seconds))


def subscription(uri: str, **members: Any) -> dict[str, Any]:
    """A subscription body to ``uri`` on AirQualityObserved, with ``members`` added."""
    notification = members.pop("notification", {})
    endpoint = notification.pop("endpoint", {})
    return {
        "type": "Subscription",
        "entities": [{"type": "AirQualityObserved"}],
        "notification": {"endpoint": {"uri": uri, **endpoint}, **notification},
        **members,
    }


@pytest.fixture
async def running(store: Store, clock: FixedClock) -> AsyncIterator[Running]:
    bus = LocalBus(retry_base_delay=0.001)
    notifier = Notifier(store, bus, clock, FAST)
    await bus.start()
    await notifier.start()
    try:
        yield Running(bus, notifier, SubscriptionActions(store, bus, clock), clock)
    finally:
        await notifier.stop()
        await bus.stop()
