"""The NGSI-LD Subscription, as the platform keeps it.

Names (entity types, attributes, the geoproperty) are held **expanded**; the @context
the subscription was created with travels along so GET answers and notifications can
be compacted again. :mod:`.validation` builds these from request bodies;
:func:`to_record`/:func:`from_record` are the stored form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

Format = Literal["normalized", "keyValues", "concise"]
Status = Literal["active", "paused", "expired"]
FORMATS: tuple[str, ...] = ("normalized", "keyValues", "concise")
ACCEPTS: tuple[str, ...] = ("application/json", "application/ld+json")
TRIGGERS: tuple[str, ...] = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
DEFAULT_TRIGGERS: tuple[str, ...] = (
    "entityCreated",
    "entityUpdated",
    "attributeCreated",
    "attributeUpdated",
)


@dataclass(frozen=True)
class EntitySelector:
    """One member of ``entities``: a type (expanded) and optionally an id or id pattern."""

    type: str
    id: str | None = None
    id_pattern: str | None = None

    def selects(self, entity_id: str, types: tuple[str, ...]) -> bool:
        """Whether an entity with ``entity_id`` and ``types`` is selected."""
        if self.type not in types:
            return False
        if self.id is not None and self.id != entity_id:
            return False
        return self.id_pattern is None or re.search(self.id_pattern, entity_id) is not None


@dataclass(frozen=True)
class GeoQuery:
    """A subscription's ``geoQ`` (geoproperty expanded)."""

    geometry: str
    coordinates: Any
    georel: str
    geoproperty: str


@dataclass(frozen=True)
class Endpoint:
    """Where notifications go: an http(s) or mqtt(s) URI and how to send there."""

    uri: str
    accept: str = "application/json"
    receiver_info: tuple[tuple[str, str], ...] = ()
    notifier_info: tuple[tuple[str, str], ...] = ()

    @property
    def scheme(self) -> str:
        """``http``, ``https``, ``mqtt`` or ``mqtts``."""
        return self.uri.split(":", 1)[0].lower()


@dataclass(frozen=True)
class NotificationParameters:
    """The ``notification`` member: what to send and where."""

    endpoint: Endpoint
    attributes: tuple[str, ...] = ()
    format: Format = "normalized"
    system_attributes: bool = False


@dataclass(frozen=True)
class NotificationStatus:
    """What the notifier recorded about a subscription's notifications."""

    last_notification: datetime | None = None
    last_success: datetime | None = None
    last_failure: datetime | None = None
    times_sent: int = 0
    times_failed: int = 0


@dataclass(frozen=True)
class Subscription:
    """A validated subscription of one tenant."""

    id: str
    tenant: str
    notification: NotificationParameters
    context: Any
    created_at: datetime
    modified_at: datetime
    entities: tuple[EntitySelector, ...] = ()
    watched_attributes: tuple[str, ...] = ()
    notification_trigger: tuple[str, ...] = DEFAULT_TRIGGERS
    q: str | None = None
    geo_q: GeoQuery | None = None
    throttling: float | None = None
    time_interval: float | None = None
    expires_at: datetime | None = None
    is_active: bool = True
    name: str | None = None
    description: str | None = None
    jsonld_context: str | None = None
    # Language ranges (as a ``lang`` parameter) LanguageProperties are notified in.
    lang: str | None = None
    status: NotificationStatus = field(default_factory=NotificationStatus)

    def state(self, now: datetime) -> Status:
        """``expired`` past ``expiresAt``, else ``paused`` when inactive, else ``active``."""
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active" if self.is_active else "paused"

    def with_status(self, status: NotificationStatus) -> Subscription:
        """This subscription with notification status ``status``."""
        return replace(self, status=status)


def to_record(subscription: Subscription) -> dict[str, Any]:
    """The JSON-ready stored form (everything but tenant, times and status)."""
    geo_q = subscription.geo_q
    endpoint = subscription.notification.endpoint
    return {
        "id": subscription.id,
        "subscriptionName": subscription.name,
        "description": subscription.description,
        "entities": [
            {"type": selector.type, "id": selector.id, "idPattern": selector.id_pattern}
            for selector in subscription.entities
        ],
        "watchedAttributes": list(subscription.watched_attributes),
        "notificationTrigger": list(subscription.notification_trigger),
        "q": subscription.q,
        "geoQ": None
        if geo_q is None
        else {
            "geometry": geo_q.geometry,
            "coordinates": geo_q.coordinates,
            "georel": geo_q.georel,
            "geoproperty": geo_q.geoproperty,
        },
        "notification": {
            "attributes": list(subscription.notification.attributes),
            "format": subscription.notification.format,
            "sysAttrs": subscription.notification.system_attributes,
            "endpoint": {
                "uri": endpoint.uri,
                "accept": endpoint.accept,
                "receiverInfo": [list(pair) for pair in endpoint.receiver_info],
                "notifierInfo": [list(pair) for pair in endpoint.notifier_info],
            },
        },
        "throttling": subscription.throttling,
        "timeInterval": subscription.time_interval,
        "isActive": subscription.is_active,
        "jsonldContext": subscription.jsonld_context,
        "lang": subscription.lang,
    }


def _pairs(items: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(value)) for key, value in items)


def from_record(
    record: dict[str, Any],
    *,
    tenant: str,
    context: Any,
    created_at: datetime,
    modified_at: datetime,
    expires_at: datetime | None,
    status: NotificationStatus,
) -> Subscription:
    """Rebuild a subscription from :func:`to_record`'s form and its row's columns."""
    notification = record["notification"]
    endpoint = notification["endpoint"]
    geo_q = record.get("geoQ")
    return Subscription(
        id=record["id"],
        tenant=tenant,
        context=context,
        created_at=created_at,
        modified_at=modified_at,
        name=record.get("subscriptionName"),
        description=record.get("description"),
        lang=record.get("lang"),
        entities=tuple(
            EntitySelector(type=item["type"], id=item.get("id"), id_pattern=item.get("idPattern"))
            for item in record.get("entities", [])
        ),
        watched_attributes=tuple(record.get("watchedAttributes", [])),
        notification_trigger=tuple(record.get("notificationTrigger", DEFAULT_TRIGGERS)),
        q=record.get("q"),
        geo_q=None if geo_q is None else GeoQuery(**geo_q),
        notification=NotificationParameters(
            endpoint=Endpoint(
                uri=endpoint["uri"],
                accept=endpoint["accept"],
                receiver_info=_pairs(endpoint.get("receiverInfo", [])),
                notifier_info=_pairs(endpoint.get("notifierInfo", [])),
            ),
            attributes=tuple(notification.get("attributes", [])),
            format=notification.get("format", "normalized"),
            system_attributes=bool(notification.get("sysAttrs", False)),
        ),
        throttling=record.get("throttling"),
        time_interval=record.get("timeInterval"),
        expires_at=expires_at,
        is_active=bool(record.get("isActive", True)),
        jsonld_context=record.get("jsonldContext"),
        status=status,
    )
