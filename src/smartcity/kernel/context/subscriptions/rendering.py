"""Notifications as a subscriber asked for them.

Entities arrive expanded and normalized (the form of
:class:`~smartcity.kernel.context.events.EntityChanged`); a notification carries them
through the library's own renderer, compacted with the subscription's @context, in its
format (normalized, keyValues or concise) and restricted to ``notification.attributes``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from smartcity.kernel.context.representation import Renderer, parse_language_ranges
from smartcity.kernel.context.subscriptions.documents import format_instant
from smartcity.kernel.context.subscriptions.model import Subscription
from smartcity.kernel.context.subscriptions.terms import (
    CORE_CONTEXT_URL,
    Terms,
    context_urls,
    terms_for,
)

LINK_RELATION = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def notification_context(subscription: Subscription) -> Any:
    """The @context notifications are compacted with (``jsonldContext`` wins)."""
    return subscription.jsonld_context or subscription.context


def link_header(subscription: Subscription) -> str:
    """The Link header pointing at the notification's @context."""
    urls = context_urls(notification_context(subscription))
    return f"<{urls[0] if urls else CORE_CONTEXT_URL}>; {LINK_RELATION}"


def build_notification(
    subscription: Subscription,
    entities: Sequence[Mapping[str, Any]],
    now: datetime,
    terms: Terms | None = None,
) -> dict[str, Any]:
    """The Notification document for ``entities`` (expanded, normalized).

    ``terms`` are those of :func:`notification_context` when the caller keeps them.
    """
    context = notification_context(subscription)
    notification = subscription.notification
    if terms is None:
        terms = terms_for(context)
    renderer = Renderer(
        terms.context,
        format=notification.format,
        sys_attrs=notification.system_attributes,
        attrs=notification.attributes or None,
        lang=None if subscription.lang is None else parse_language_ranges(subscription.lang),
    )
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": subscription.id,
        "notifiedAt": format_instant(now),
        "data": [renderer.entity(entity) for entity in entities],
    }
    if notification.endpoint.accept == "application/ld+json":
        body["@context"] = context
    return body


def notification_headers(subscription: Subscription) -> dict[str, str]:
    """Content-Type (and Link for plain JSON) plus the endpoint's receiverInfo headers."""
    endpoint = subscription.notification.endpoint
    headers = {"Content-Type": endpoint.accept}
    if endpoint.accept == "application/json":
        headers["Link"] = link_header(subscription)
    headers.update(dict(endpoint.receiver_info))
    return headers
