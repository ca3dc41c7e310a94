"""The notifier: matches entity changes against subscriptions and hands notifications
to the :class:`~.dispatcher.Dispatcher`.

It listens on the bus to ``context.*``: :class:`SubscriptionChanged` keeps its
in-memory copy of every tenant's subscriptions current (loaded once at start), and each
:class:`EntityChanged` is matched against that copy (indexed by entity type), so no
event reads the database. Throttling is decided here. Periodic subscriptions
(``timeInterval``) each get a task that notifies the entities they currently select,
every interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from smartcity.kernel.bus import Bus, Event
from smartcity.kernel.bus.base import Subscription as BusSubscription
from smartcity.kernel.clock import Clock
from smartcity.kernel.context.events import EntityChanged
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.query import EntitySelection
from smartcity.kernel.context.subscriptions import repository
from smartcity.kernel.context.subscriptions.dispatcher import Dispatcher, Job
from smartcity.kernel.context.subscriptions.events import SubscriptionChanged
from smartcity.kernel.context.subscriptions.matching import change_matches, compile_filters
from smartcity.kernel.context.subscriptions.model import Subscription
from smartcity.kernel.context.subscriptions.rendering import (
    build_notification,
    notification_context,
    notification_headers,
)
from smartcity.kernel.context.subscriptions.selection import select_entities
from smartcity.kernel.context.subscriptions.settings import NotifierSettings, NotifierStats
from smartcity.kernel.context.subscriptions.terms import Terms, terms_for
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

log = logging.getLogger(__name__)

SubscriptionKey = tuple[str, str]


class Notifier:
    """Matches changes to subscriptions and delivers notifications (see module docstring)."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        settings: NotifierSettings | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._library = ContextLibrary(store, bus, clock)
        self._settings = settings or NotifierSettings()
        self.stats = NotifierStats()
        self._subscriptions: dict[str, dict[str, Subscription]] = {}
        # Per tenant: subscriptions by selected entity type (None: no entity selectors),
        # rebuilt lazily after a change, so an event only looks at its candidates.
        self._by_type: dict[str, dict[str | None, list[Subscription]]] = {}
        self._last_notified: dict[SubscriptionKey, datetime] = {}
        # Resolved once per subscription version: resolving may fetch a remote context,
        # which must not happen on the event loop for every notification.
        self._terms: dict[SubscriptionKey, Terms] = {}
        self._filters: dict[SubscriptionKey, EntitySelection | None] = {}
        self._dispatcher = Dispatcher(store, clock, self.settings, self.stats)
        self._periodic: dict[SubscriptionKey, asyncio.Task[None]] = {}
        self._loaded = asyncio.Event()
        # Subscription changes routed to the handler and not applied yet (by identity).
        self._changes_in_flight: set[int] = set()
        self._bus_subscription: BusSubscription | None = None

    @property
    def settings(self) -> NotifierSettings:
        """Delivery tuning (may be replaced while running; new endpoints use it fully)."""
        return self._settings

    @settings.setter
    def settings(self, settings: NotifierSettings) -> None:
        self._settings = settings
        self._dispatcher.settings = settings

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the bus, load every subscription and start the status flusher."""
        if self._bus_subscription is not None:
            return
        await self._dispatcher.start()
        # Subscribe before loading, so no change committed meanwhile is missed; events
        # wait for the load (see _handle) and re-applying one the load saw is harmless.
        self._bus_subscription = self._bus.subscribe(
            "context.*", self._handle, name="context-subscriptions-notifier", accepts=self._wants
        )
        subscriptions = await asyncio.to_thread(self._load)
        for subscription in subscriptions:
            self._apply(subscription.tenant, subscription.id, subscription)
        self._loaded.set()

    async def stop(self, *, grace: float = 0.0) -> None:
        """Stop listening, cancel delivery and periodic tasks and write the last status.

        With ``grace`` > 0 the changes already published are first matched and their
        notifications delivered, for up to ``grace`` seconds (a server shutting down
        passes ``settings.shutdown_grace``); whatever is still queued after that is
        cancelled unrecorded.
        """
        if grace > 0 and self._bus_subscription is not None:
            try:
                await asyncio.wait_for(self.drain(), timeout=grace)
            except TimeoutError:
                log.warning(
                    "shutdown: %d notifications still queued after %.1f s are dropped",
                    self._dispatcher.pending,
                    grace,
                )
        if self._bus_subscription is not None:
            self._bus_subscription.cancel()
            self._bus_subscription = None
        tasks = list(self._periodic.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._periodic.clear()
        await self._dispatcher.stop()

    async def drain(self) -> None:
        """Wait until every published change is matched and every queued notification
        delivered or given up on, then write the status (periodic notifications aside)."""
        while True:
            await self._bus.drain()
            if self._dispatcher.pending == 0:
                break
            await self._dispatcher.wait_idle()
        await self.flush()

    async def flush(self) -> None:
        """Write the gathered notification status now."""
        await self._dispatcher.flush()

    def subscriptions(self, tenant: str) -> list[Subscription]:
        """The notifier's current view of ``tenant``'s subscriptions."""
        return list(self._subscriptions.get(tenant, {}).values())

    # -- events --------------------------------------------------------------------

    def _load(self) -> list[Subscription]:
        with self._store.connect() as conn:
            return repository.load_all_subscriptions(conn)

    def _wants(self, event: Event) -> bool:
        """Whether ``event`` may concern a subscription (asked as the bus routes it).

        A change in a tenant without subscriptions notifies nobody: most of the city's
        updates, and the bus need not queue them for this handler (~10 µs of the loop
        per PATCH). Unless the subscriptions are still loading, or a subscription change
        routed earlier is not applied yet: the handler sees events in routing order, so
        a change after a new subscription must reach it.
        """
        if isinstance(event, EntityChanged):
            return (
                not self._loaded.is_set()
                or bool(self._changes_in_flight)
                or bool(self._subscriptions.get(event.tenant))
            )
        if isinstance(event, SubscriptionChanged):
            self._changes_in_flight.add(id(event))
        return True

    async def _handle(self, event: Event) -> None:
        await self._loaded.wait()
        if isinstance(event, SubscriptionChanged):
            self._apply(event.tenant, event.subscription_id, event.subscription)
            # Applied: changes routed from now on see it (a failed apply stays counted,
            # and every change keeps reaching the handler, as before).
            self._changes_in_flight.discard(id(event))
        elif isinstance(event, EntityChanged):
            self._notify_change(event)

    def _apply(self, tenant: str, subscription_id: str, subscription: Subscription | None) -> None:
        key = (tenant, subscription_id)
        task = self._periodic.pop(key, None)
        if task is not None:
            task.cancel()
        self._terms.pop(key, None)
        self._filters.pop(key, None)
        self._by_type.pop(tenant, None)
        if subscription is None:
            self._subscriptions.get(tenant, {}).pop(subscription_id, None)
            self._last_notified.pop(key, None)
            return
        self._subscriptions.setdefault(tenant, {})[subscription_id] = subscription
        if subscription.time_interval is not None:
            self._periodic[key] = asyncio.create_task(
                self._periodic_loop(key), name=f"subscriptions:periodic:{subscription_id}"
            )

    def _notify_change(self, event: EntityChanged) -> None:
        now = self._clock.now()
        for subscription in self._candidates(event.tenant, event.types):
            try:
                matched = change_matches(
                    subscription,
                    self._compiled_filters(subscription),
                    operation=event.operation,
                    entity_id=event.entity_id,
                    types=event.types,
                    attributes=event.attributes,
                    entity=event.entity,
                    now=now,
                )
                if not matched or self._throttled(subscription, now):
                    continue
                self.stats.matched += 1
                self._enqueue(subscription, [event.entity])
            except Exception:
                # One subscription's broken filter or context must not stop the others'
                # notifications (nor make the bus retry the whole event).
                log.exception("notifying subscription %s failed", subscription.id)

    def _candidates(self, tenant: str, types: tuple[str, ...]) -> list[Subscription]:
        index = self._by_type.get(tenant)
        if index is None:
            index = {}
            for subscription in self._subscriptions.get(tenant, {}).values():
                selected: set[str | None] = {selector.type for selector in subscription.entities}
                for kind in selected or {None}:
                    index.setdefault(kind, []).append(subscription)
            self._by_type[tenant] = index
        candidates = list(index.get(None, ()))
        for kind in types:
            candidates.extend(index.get(kind, ()))
        if len(types) > 1:
            # An entity of several types may meet one subscription through each of them.
            candidates = list({id(item): item for item in candidates}.values())
        return candidates

    def _subscription_terms(self, subscription: Subscription) -> Terms:
        key = (subscription.tenant, subscription.id)
        terms = self._terms.get(key)
        if terms is None:
            terms = self._terms[key] = terms_for(notification_context(subscription))
        return terms

    def _compiled_filters(self, subscription: Subscription) -> EntitySelection | None:
        key = (subscription.tenant, subscription.id)
        if key not in self._filters:
            self._filters[key] = compile_filters(subscription)
        return self._filters[key]

    def _throttled(self, subscription: Subscription, now: datetime) -> bool:
        if subscription.throttling is None:
            return False
        last = self._last_notified.get((subscription.tenant, subscription.id))
        if last is not None and now - last < timedelta(seconds=subscription.throttling):
            self.stats.throttled += 1
            return True
        return False

    # -- delivery ------------------------------------------------------------------

    def _enqueue(self, subscription: Subscription, entities: Sequence[Mapping[str, Any]]) -> None:
        now = self._clock.now()
        self._last_notified[(subscription.tenant, subscription.id)] = now
        job = Job(
            subscription=subscription,
            body=build_notification(
                subscription, entities, now, self._subscription_terms(subscription)
            ),
            headers=notification_headers(subscription),
        )
        # One entity: its lane keeps its notifications in order; several (periodic): the
        # subscription's lane keeps its rounds in order.
        order_key = entities[0].get("id") if len(entities) == 1 else subscription.id
        self._dispatcher.enqueue(job, order_key)

    # -- background tasks ----------------------------------------------------------

    async def _periodic_loop(self, key: SubscriptionKey) -> None:
        tenant, subscription_id = key
        while True:
            subscription = self._subscriptions.get(tenant, {}).get(subscription_id)
            if subscription is None or subscription.time_interval is None:
                return
            state = subscription.state(self._clock.now())
            if state == "expired":
                return
            if state == "active":
                with contextlib.suppress(Exception):
                    await self._notify_current(subscription)
            await asyncio.sleep(subscription.time_interval)

    async def _notify_current(self, subscription: Subscription) -> None:
        """Notify every entity the subscription selects now: one notification per page
        of ``periodic_limit`` entities, so a large selection is neither cut off nor
        sent as one huge body."""
        page_size = self.settings.periodic_limit
        offset = 0
        while True:
            try:
                entities = await asyncio.to_thread(
                    select_entities,
                    self._library,
                    subscription,
                    self._compiled_filters(subscription),
                    limit=page_size,
                    offset=offset,
                )
            except Exception:
                log.exception(
                    "reading entities for periodic subscription %s failed", subscription.id
                )
                raise
            if entities:
                self._enqueue(subscription, entities)
            if len(entities) < page_size:
                return
            offset += page_size


async def start_notifier(platform: Platform, settings: NotifierSettings | None = None) -> Notifier:
    """Start a notifier on the platform's store, bus and clock (after ``platform.start()``).

    Stop it with ``await notifier.stop()`` before the platform stops.
    """
    notifier = Notifier(platform.store, platform.bus, platform.clock, settings)
    await notifier.start()
    return notifier
