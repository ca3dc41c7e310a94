"""The current entities a periodic subscription selects.

Periodic (``timeInterval``) subscriptions notify the entities as they are now rather than
a change. The subscription's entity selectors, ``q`` and ``geoQ`` become one query
selection answered by the library (in SQL, on either backend), so the read returns only
what the subscriber wants.
"""

from __future__ import annotations

from typing import Any

from smartcity.kernel.context.errors import NonexistentTenant
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.query import EntitySelection
from smartcity.kernel.context.query import EntitySelector as QuerySelector
from smartcity.kernel.context.query.ast import TypeName
from smartcity.kernel.context.subscriptions.model import Subscription

MAXIMUM_ENTITIES = 1000


def periodic_selection(
    subscription: Subscription, filters: EntitySelection | None
) -> EntitySelection:
    """The query selection of a subscription: its selectors plus compiled ``q``/``geoQ``."""
    return EntitySelection(
        tenant=subscription.tenant,
        q=None if filters is None else filters.q,
        geo=None if filters is None else filters.geo,
        selectors=tuple(
            QuerySelector(
                types=TypeName(selector.type), id=selector.id, id_pattern=selector.id_pattern
            )
            for selector in subscription.entities
        ),
    )


def select_entities(
    library: ContextLibrary,
    subscription: Subscription,
    filters: EntitySelection | None,
    *,
    limit: int = MAXIMUM_ENTITIES,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Up to ``limit`` entities (expanded, normalized) the subscription selects now,
    from ``offset`` on in the library's stable order (a periodic round pages through
    all of them, one notification per page)."""
    try:
        page = library.query_entities(
            periodic_selection(subscription, filters), limit=limit, offset=offset
        )
    except NonexistentTenant:
        # A tenant without data yet simply has nothing to notify.
        return []
    return [dict(entity) for entity in page.entities]
