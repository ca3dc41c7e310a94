"""The write path of subscriptions: one function per use case, each owning its transaction
and publishing :class:`SubscriptionChanged` after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from smartcity.kernel.bus import Bus
from smartcity.kernel.clock import Clock
from smartcity.kernel.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from smartcity.kernel.context.paging import check_page
from smartcity.kernel.context.subscriptions import repository
from smartcity.kernel.context.subscriptions.documents import subscription_document
from smartcity.kernel.context.subscriptions.events import SubscriptionChanged
from smartcity.kernel.context.subscriptions.model import Subscription
from smartcity.kernel.context.subscriptions.terms import CORE_CONTEXT_URL, terms_for
from smartcity.kernel.context.subscriptions.validation import parse_subscription
from smartcity.kernel.storage import Store

MAXIMUM_PAGE = 1000
# Members a PATCH fragment may not change.
FIXED_MEMBERS = ("id", "type")


class SubscriptionActions:
    """Create, read, update and delete the subscriptions of every tenant."""

    def __init__(self, store: Store, bus: Bus, clock: Clock) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock

    def create(self, tenant: str, document: Any, context: Any = None) -> Subscription:
        """Validate and store a new subscription; ``AlreadyExists`` if its id is taken.

        ``context`` is the request's @context (the core context when ``None``); names
        are expanded with it now and notifications are compacted with it later.
        """
        context = CORE_CONTEXT_URL if context is None else context
        subscription = parse_subscription(
            document, tenant=tenant, context=context, now=self._clock.now()
        )
        try:
            with self._store.begin() as conn:
                if repository.load_subscription(conn, tenant, subscription.id) is not None:
                    raise AlreadyExists(f"subscription {subscription.id} already exists")
                repository.insert_subscription(conn, subscription)
        except IntegrityError:
            # Two creations of one id raced; the loser hears what the check would have said.
            raise AlreadyExists(f"subscription {subscription.id} already exists") from None
        self._publish(subscription.tenant, subscription.id, subscription)
        return subscription

    def retrieve(self, tenant: str, subscription_id: str) -> Subscription:
        """One subscription with its notification status; ``ResourceNotFound`` if unknown."""
        with self._store.connect() as conn:
            subscription = repository.load_subscription(conn, tenant, subscription_id)
        if subscription is None:
            raise ResourceNotFound(f"subscription {subscription_id} not found")
        return subscription

    def query(self, tenant: str, *, limit: int, offset: int) -> tuple[list[Subscription], int]:
        """A page of ``tenant``'s subscriptions and how many there are in all."""
        check_page(limit, offset, max_limit=MAXIMUM_PAGE)
        with self._store.connect() as conn:
            page = repository.list_subscriptions(conn, tenant, limit=limit, offset=offset)
            total = repository.count_subscriptions(conn, tenant)
        return page, total

    def update(
        self, tenant: str, subscription_id: str, fragment: Any, context: Any = None
    ) -> Subscription:
        """Apply a PATCH fragment: its members replace the subscription's (null removes).

        The fragment's names are expanded with ``context`` (the request's; the core
        context when ``None``); notifications keep the context the subscription was
        created with.
        """
        if not isinstance(fragment, Mapping) or not fragment:
            raise BadRequestData("a subscription fragment must be a non-empty JSON object")
        for member in FIXED_MEMBERS:
            if member in fragment and member != "type":
                raise BadRequestData(f"{member} cannot be changed", member=member)
        if "type" in fragment and fragment["type"] != "Subscription":
            raise BadRequestData('type must be "Subscription"', member="type")
        now = self._clock.now()
        with self._store.begin() as conn:
            current = repository.load_subscription(conn, tenant, subscription_id)
            if current is None:
                raise ResourceNotFound(f"subscription {subscription_id} not found")
            terms = terms_for(context)
            merged = subscription_document(current, now, terms=terms)
            merged.pop("status", None)
            for member, value in fragment.items():
                if member == "@context":
                    continue
                if value is None:
                    merged.pop(member, None)
                else:
                    merged[member] = value
            subscription = parse_subscription(
                merged,
                tenant=tenant,
                context=context,
                now=now,
                created_at=current.created_at,
                status=current.status,
                require_future_expiry="expiresAt" in fragment,
            )
            subscription = replace(subscription, context=current.context)
            repository.replace_subscription(conn, subscription)
        self._publish(tenant, subscription_id, subscription)
        return subscription

    def delete(self, tenant: str, subscription_id: str) -> None:
        """Delete a subscription; ``ResourceNotFound`` if unknown."""
        with self._store.begin() as conn:
            if not repository.delete_subscription(conn, tenant, subscription_id):
                raise ResourceNotFound(f"subscription {subscription_id} not found")
        self._publish(tenant, subscription_id, None)

    def _publish(
        self, tenant: str, subscription_id: str, subscription: Subscription | None
    ) -> None:
        self._bus.publish(
            SubscriptionChanged(
                tenant=tenant, subscription_id=subscription_id, subscription=subscription
            )
        )
