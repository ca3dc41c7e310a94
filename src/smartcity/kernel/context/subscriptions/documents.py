"""Subscriptions as NGSI-LD JSON documents (compacted with their @context)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from smartcity.kernel.context.subscriptions.model import Subscription
from smartcity.kernel.context.subscriptions.terms import Terms, terms_for


def format_instant(instant: datetime) -> str:
    """An instant as NGSI-LD writes it: UTC, milliseconds, ``Z``."""
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def subscription_document(
    subscription: Subscription,
    now: datetime,
    *,
    terms: Terms | None = None,
    system_attributes: bool = False,
) -> dict[str, Any]:
    """The compact NGSI-LD Subscription, with its derived status and notification status.

    Names are compacted with ``terms`` (a request's context), else the subscription's own.
    """
    terms = terms or terms_for(subscription.context)
    document: dict[str, Any] = {"id": subscription.id, "type": "Subscription"}
    if subscription.name is not None:
        document["subscriptionName"] = subscription.name
    if subscription.description is not None:
        document["description"] = subscription.description
    if subscription.entities:
        entities = []
        for selector in subscription.entities:
            item = {"type": terms.compact(selector.type)}
            if selector.id is not None:
                item["id"] = selector.id
            if selector.id_pattern is not None:
                item["idPattern"] = selector.id_pattern
            entities.append(item)
        document["entities"] = entities
    if subscription.watched_attributes:
        document["watchedAttributes"] = [
            terms.compact(name) for name in subscription.watched_attributes
        ]
    document["notificationTrigger"] = list(subscription.notification_trigger)
    if subscription.q is not None:
        document["q"] = subscription.q
    if subscription.geo_q is not None:
        document["geoQ"] = {
            "geometry": subscription.geo_q.geometry,
            "coordinates": subscription.geo_q.coordinates,
            "georel": subscription.geo_q.georel,
            "geoproperty": terms.compact(subscription.geo_q.geoproperty),
        }
    document["notification"] = _notification_document(subscription, terms)
    if subscription.throttling is not None:
        document["throttling"] = subscription.throttling
    if subscription.time_interval is not None:
        document["timeInterval"] = subscription.time_interval
    if subscription.expires_at is not None:
        document["expiresAt"] = format_instant(subscription.expires_at)
    if subscription.jsonld_context is not None:
        document["jsonldContext"] = subscription.jsonld_context
    if subscription.lang is not None:
        document["lang"] = subscription.lang
    document["isActive"] = subscription.is_active
    document["status"] = subscription.state(now)
    if system_attributes:
        document["createdAt"] = format_instant(subscription.created_at)
        document["modifiedAt"] = format_instant(subscription.modified_at)
    return document


def _notification_document(subscription: Subscription, terms: Terms) -> dict[str, Any]:
    notification = subscription.notification
    endpoint = notification.endpoint
    endpoint_document: dict[str, Any] = {"uri": endpoint.uri, "accept": endpoint.accept}
    if endpoint.receiver_info:
        endpoint_document["receiverInfo"] = [
            {"key": key, "value": value} for key, value in endpoint.receiver_info
        ]
    if endpoint.notifier_info:
        endpoint_document["notifierInfo"] = [
            {"key": key, "value": value} for key, value in endpoint.notifier_info
        ]
    document: dict[str, Any] = {"format": notification.format, "endpoint": endpoint_document}
    if notification.attributes:
        document["attributes"] = [terms.compact(name) for name in notification.attributes]
    if notification.system_attributes:
        document["sysAttrs"] = True
    status = subscription.status
    document["timesSent"] = status.times_sent
    document["timesFailed"] = status.times_failed
    for member, instant in (
        ("lastNotification", status.last_notification),
        ("lastSuccess", status.last_success),
        ("lastFailure", status.last_failure),
    ):
        if instant is not None:
            document[member] = format_instant(instant)
    if status.last_notification is not None:
        failed = status.last_failure is not None and (
            status.last_success is None or status.last_failure > status.last_success
        )
        document["status"] = "failed" if failed else "ok"
    return document
