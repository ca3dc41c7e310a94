"""Building a :class:`Subscription` from an NGSI-LD request body, with reasons on refusal.

Every check raises :class:`BadRequestData` naming the member at fault, so a client sees
exactly what to fix. Names are expanded here, once, with the subscription's @context.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import shapely.geometry

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.query import build_geo_query, parse_q
from smartcity.kernel.context.representation import parse_language_ranges
from smartcity.kernel.context.subscriptions.model import (
    ACCEPTS,
    DEFAULT_TRIGGERS,
    FORMATS,
    TRIGGERS,
    Endpoint,
    EntitySelector,
    Format,
    GeoQuery,
    NotificationParameters,
    NotificationStatus,
    Subscription,
)
from smartcity.kernel.context.subscriptions.terms import Terms, terms_for

URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+")
ENDPOINT_SCHEMES = ("http", "https", "mqtt", "mqtts")
GEOMETRIES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)
GEORELS = ("near", "within", "contains", "intersects", "equals", "disjoint", "overlaps")
NEAR_MODIFIER = re.compile(r"(maxDistance|minDistance)==\d+(\.\d+)?")
QOS_KEY = "MQTT-QoS"
# An HTTP header name (RFC 9110 token): receiverInfo keys become request headers.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
KNOWN_MEMBERS = frozenset(
    {
        "id",
        "type",
        "subscriptionName",
        "description",
        "entities",
        "watchedAttributes",
        "notificationTrigger",
        "q",
        "geoQ",
        "notification",
        "throttling",
        "timeInterval",
        "expiresAt",
        "isActive",
        "jsonldContext",
        "@context",
        "status",
        "createdAt",
        "modifiedAt",
        "lang",
        "scopeQ",
        "csf",
        "temporalQ",
    }
)


def new_subscription_id() -> str:
    """A fresh subscription id."""
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"


def is_uri(value: object) -> bool:
    """Whether ``value`` is an absolute URI (scheme and something after it)."""
    return isinstance(value, str) and URI.fullmatch(value) is not None


def _string(document: Mapping[str, Any], member: str) -> str | None:
    value = document.get(member)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"{member} must be a non-empty string", member=member)
    return value


def _names(value: Any, member: str, terms: Terms) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{member} must be a non-empty array of names", member=member)
    for name in value:
        if not isinstance(name, str) or not name:
            raise BadRequestData(f"{member} must hold attribute names", member=member)
    return tuple(dict.fromkeys(terms.expand(name) for name in value))


def _seconds(document: Mapping[str, Any], member: str) -> float | None:
    value = document.get(member)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequestData(f"{member} must be a number of seconds", member=member)
    if not math.isfinite(value) or value <= 0:
        raise BadRequestData(f"{member} must be greater than zero", member=member)
    return float(value)


def parse_instant(value: Any, member: str) -> datetime:
    """An ISO 8601 date-time (UTC assumed without an offset)."""
    if not isinstance(value, str):
        raise BadRequestData(f"{member} must be an ISO 8601 date-time string", member=member)
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestData(
            f"{member} is not an ISO 8601 date-time: {value!r}", member=member
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def _entities(value: Any, terms: Terms) -> tuple[EntitySelector, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise BadRequestData("entities must be a non-empty array", member="entities")
    selectors = []
    for item in value:
        if not isinstance(item, Mapping):
            raise BadRequestData("each member of entities must be an object", member="entities")
        kind = item.get("type")
        if not isinstance(kind, str) or not kind:
            raise BadRequestData("each member of entities needs a type", member="entities")
        entity_id = item.get("id")
        if entity_id is not None and not is_uri(entity_id):
            raise BadRequestData(f"entities: id {entity_id!r} is not a URI", member="entities")
        pattern = item.get("idPattern")
        if pattern is not None:
            if not isinstance(pattern, str):
                raise BadRequestData("entities: idPattern must be a string", member="entities")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise BadRequestData(
                    f"entities: idPattern {pattern!r} is not a valid regular expression: {exc}",
                    member="entities",
                ) from None
        selectors.append(EntitySelector(type=terms.expand(kind), id=entity_id, id_pattern=pattern))
    return tuple(selectors)


def _geo_query(value: Any, terms: Terms) -> GeoQuery | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRequestData("geoQ must be an object", member="geoQ")
    geometry = value.get("geometry")
    if geometry not in GEOMETRIES:
        raise BadRequestData(f"geoQ.geometry must be one of {', '.join(GEOMETRIES)}", member="geoQ")
    coordinates = value.get("coordinates")
    if isinstance(coordinates, str):
        try:
            coordinates = json.loads(coordinates)
        except ValueError:
            raise BadRequestData("geoQ.coordinates is not a JSON array", member="geoQ") from None
    try:
        shape = shapely.geometry.shape({"type": geometry, "coordinates": coordinates})
    except Exception as exc:  # shapely raises several types for malformed input
        raise BadRequestData(
            f"geoQ.coordinates do not form a {geometry}: {exc}", member="geoQ"
        ) from None
    if shape.is_empty:
        raise BadRequestData(f"geoQ.coordinates do not form a {geometry}", member="geoQ")
    georel = value.get("georel")
    if not isinstance(georel, str):
        raise BadRequestData("geoQ.georel is required", member="geoQ")
    relation, *modifiers = georel.split(";")
    if relation not in GEORELS:
        raise BadRequestData(f"geoQ.georel must be one of {', '.join(GEORELS)}", member="geoQ")
    if relation == "near" and (
        len(modifiers) != 1 or NEAR_MODIFIER.fullmatch(modifiers[0]) is None
    ):
        raise BadRequestData(
            "geoQ.georel near needs ;maxDistance==<metres> or ;minDistance==<metres>",
            member="geoQ",
        )
    if relation != "near" and modifiers:
        raise BadRequestData(f"geoQ.georel {relation} takes no modifier", member="geoQ")
    geoproperty = value.get("geoproperty", "location")
    if not isinstance(geoproperty, str) or not geoproperty:
        raise BadRequestData("geoQ.geoproperty must be an attribute name", member="geoQ")
    try:
        # The query package's own checks (ring closure, validity) apply to subscriptions too.
        build_geo_query(georel=georel, geometry=geometry, coordinates=coordinates)
    except BadRequestData as exc:
        raise BadRequestData(f"geoQ: {exc.reason}", member="geoQ") from None
    return GeoQuery(
        geometry=geometry,
        coordinates=coordinates,
        georel=georel,
        geoproperty=terms.expand(geoproperty),
    )


def _key_values(value: Any, member: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadRequestData(f"{member} must be an array of {{key, value}}", member=member)
    pairs = []
    for item in value:
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("key"), str)
            or not isinstance(item.get("value"), str)
            or not item["key"]
        ):
            raise BadRequestData(
                f"each member of {member} must be {{key: string, value: string}}", member=member
            )
        if HEADER_NAME.fullmatch(item["key"]) is None or any(
            character in item["value"] for character in "\r\n\0"
        ):
            raise BadRequestData(
                f"{member}: {item['key']!r} must be a header name with a single-line value",
                member=member,
            )
        pairs.append((item["key"], item["value"]))
    return tuple(pairs)


def _endpoint(value: Any) -> Endpoint:
    member = "notification.endpoint"
    if not isinstance(value, Mapping):
        raise BadRequestData(f"{member} is required and must be an object", member=member)
    uri = value.get("uri")
    if not is_uri(uri):
        raise BadRequestData(f"{member}.uri must be a URI", member=member)
    uri = cast(str, uri)
    scheme = uri.split(":", 1)[0].lower()
    if scheme not in ENDPOINT_SCHEMES or "://" not in uri or uri.endswith("://"):
        raise BadRequestData(
            f"{member}.uri must be an http, https, mqtt or mqtts URL", member=member
        )
    accept = value.get("accept", "application/json")
    if accept not in ACCEPTS:
        raise BadRequestData(f"{member}.accept must be one of {', '.join(ACCEPTS)}", member=member)
    notifier_info = _key_values(value.get("notifierInfo"), f"{member}.notifierInfo")
    for key, qos in notifier_info:
        if key == QOS_KEY and qos not in ("0", "1", "2"):
            raise BadRequestData(f"{member}.notifierInfo MQTT-QoS must be 0, 1 or 2", member=member)
    return Endpoint(
        uri=uri,
        accept=accept,
        receiver_info=_key_values(value.get("receiverInfo"), f"{member}.receiverInfo"),
        notifier_info=notifier_info,
    )


def _notification(value: Any, terms: Terms) -> NotificationParameters:
    if not isinstance(value, Mapping):
        raise BadRequestData(
            "notification is required and must be an object", member="notification"
        )
    notification_format = value.get("format", "normalized")
    if notification_format not in FORMATS:
        raise BadRequestData(
            f"notification.format must be one of {', '.join(FORMATS)}", member="notification"
        )
    system_attributes = value.get("sysAttrs", False)
    if not isinstance(system_attributes, bool):
        raise BadRequestData("notification.sysAttrs must be a boolean", member="notification")
    return NotificationParameters(
        endpoint=_endpoint(value.get("endpoint")),
        attributes=_names(value.get("attributes"), "notification.attributes", terms),
        format=cast(Format, notification_format),
        system_attributes=system_attributes,
    )


def _triggers(value: Any) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_TRIGGERS
    if not isinstance(value, list) or not value or any(item not in TRIGGERS for item in value):
        raise BadRequestData(
            f"notificationTrigger must be a non-empty array of {', '.join(TRIGGERS)}",
            member="notificationTrigger",
        )
    return tuple(dict.fromkeys(value))


def parse_subscription(
    document: Any,
    *,
    tenant: str,
    context: Any,
    now: datetime,
    created_at: datetime | None = None,
    status: NotificationStatus | None = None,
    require_future_expiry: bool = True,
) -> Subscription:
    """Validate an NGSI-LD Subscription body and expand its names with ``context``.

    ``created_at``/``status`` carry over from the stored subscription when a PATCH
    re-validates the merged document; a PATCH that leaves ``expiresAt`` alone may keep
    one already past (``require_future_expiry=False``).
    """
    if not isinstance(document, Mapping):
        raise BadRequestData("a subscription must be a JSON object")
    unknown = sorted(set(document) - KNOWN_MEMBERS)
    if unknown:
        raise BadRequestData(f"unknown subscription member(s): {', '.join(unknown)}")
    if document.get("type") != "Subscription":
        raise BadRequestData('type must be "Subscription"', member="type")
    subscription_id = document.get("id")
    if subscription_id is None:
        subscription_id = new_subscription_id()
    elif not is_uri(subscription_id):
        raise BadRequestData(f"id {subscription_id!r} is not a URI", member="id")
    terms = terms_for(context)
    entities = _entities(document.get("entities"), terms)
    watched = _names(document.get("watchedAttributes"), "watchedAttributes", terms)
    time_interval = _seconds(document, "timeInterval")
    throttling = _seconds(document, "throttling")
    if not entities and not watched:
        raise BadRequestData("a subscription needs entities or watchedAttributes")
    if time_interval is not None and (watched or throttling is not None):
        raise BadRequestData(
            "timeInterval cannot be combined with watchedAttributes or throttling",
            member="timeInterval",
        )
    q = _string(document, "q")
    if q is not None:
        try:
            parse_q(q)
        except BadRequestData as exc:
            raise BadRequestData(f"q: {exc.reason}", member="q") from None
    expires_at = None
    if document.get("expiresAt") is not None:
        expires_at = parse_instant(document["expiresAt"], "expiresAt")
        if require_future_expiry and expires_at <= now:
            raise BadRequestData("expiresAt must be in the future", member="expiresAt")
    is_active = document.get("isActive", True)
    if not isinstance(is_active, bool):
        raise BadRequestData("isActive must be a boolean", member="isActive")
    jsonld_context = document.get("jsonldContext")
    if jsonld_context is not None:
        if not is_uri(jsonld_context):
            raise BadRequestData("jsonldContext must be a URI", member="jsonldContext")
        # Resolve it now: an unusable context is the creator's error to hear, not a
        # silent failure of every later notification (and it warms the shared cache).
        terms_for(jsonld_context)
    lang = _string(document, "lang")
    if lang is not None:
        try:
            parse_language_ranges(lang)
        except BadRequestData as exc:
            raise BadRequestData(exc.reason, member="lang") from None
    return Subscription(
        id=subscription_id,
        tenant=tenant,
        context=context,
        created_at=created_at or now,
        modified_at=now,
        name=_string(document, "subscriptionName"),
        description=_string(document, "description"),
        entities=entities,
        watched_attributes=watched,
        notification_trigger=_triggers(document.get("notificationTrigger")),
        q=q,
        geo_q=_geo_query(document.get("geoQ"), terms),
        notification=_notification(document.get("notification"), terms),
        throttling=throttling,
        time_interval=time_interval,
        expires_at=expires_at,
        is_active=is_active,
        jsonld_context=jsonld_context,
        lang=lang,
        status=status or NotificationStatus(),
    )
