"""Which subscriptions an entity change concerns, decided in memory.

:func:`change_matches` checks state, trigger, entity selectors and watched attributes,
then ``q``/``geoQ`` through the query package's in-memory evaluator (the same semantics
as its SQL compiler). :func:`compile_filters` prepares a subscription's ``q``/``geoQ``
once, so matching an event parses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from smartcity.kernel.context.events import ChangeOperation
from smartcity.kernel.context.query import EntitySelection, build_geo_query, matches, parse_q
from smartcity.kernel.context.query.grammar import expand_query
from smartcity.kernel.context.subscriptions.model import Subscription
from smartcity.kernel.context.subscriptions.terms import Terms, terms_for

# The notificationTrigger values that let each kind of change through.
UPDATE_TRIGGERS = frozenset(
    {"entityUpdated", "attributeCreated", "attributeUpdated", "attributeDeleted"}
)
TRIGGERS_BY_OPERATION: dict[str, frozenset[str]] = {
    "create": frozenset({"entityCreated", "attributeCreated"}),
    "update": UPDATE_TRIGGERS,
    "replace": UPDATE_TRIGGERS,
    "delete": frozenset({"entityDeleted"}),
}


def compile_filters(
    subscription: Subscription, terms: Terms | None = None
) -> EntitySelection | None:
    """The subscription's ``q`` and ``geoQ`` as an expanded selection (None without them)."""
    if subscription.q is None and subscription.geo_q is None:
        return None
    terms = terms or terms_for(subscription.context)
    query = None if subscription.q is None else expand_query(parse_q(subscription.q), terms.expand)
    geo_q = subscription.geo_q
    geo = (
        None
        if geo_q is None
        else build_geo_query(
            georel=geo_q.georel,
            geometry=geo_q.geometry,
            coordinates=geo_q.coordinates,
            geoproperty=geo_q.geoproperty,
            expand=terms.expand,
        )
    )
    return EntitySelection(tenant=subscription.tenant, q=query, geo=geo)


def selects_entity(subscription: Subscription, entity_id: str, types: tuple[str, ...]) -> bool:
    """Whether the subscription's ``entities`` select this entity (no selector: all do)."""
    if not subscription.entities:
        return True
    return any(selector.selects(entity_id, types) for selector in subscription.entities)


def filters_match(filters: EntitySelection | None, entity: Mapping[str, Any]) -> bool:
    """Whether ``entity`` (expanded, normalized) satisfies compiled ``q``/``geoQ`` filters."""
    return filters is None or matches(entity, filters)


def change_matches(
    subscription: Subscription,
    filters: EntitySelection | None,
    *,
    operation: ChangeOperation,
    entity_id: str,
    types: tuple[str, ...],
    attributes: tuple[str, ...],
    entity: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Whether a change of an entity should be notified to ``subscription`` (throttling aside).

    ``filters`` is :func:`compile_filters` of the subscription.
    """
    if subscription.time_interval is not None or subscription.state(now) != "active":
        return False
    if not TRIGGERS_BY_OPERATION[operation] & set(subscription.notification_trigger):
        return False
    if not selects_entity(subscription, entity_id, types):
        return False
    if (
        subscription.watched_attributes
        and operation != "delete"
        and not set(subscription.watched_attributes) & set(attributes)
    ):
        return False
    return filters_match(filters, entity)
