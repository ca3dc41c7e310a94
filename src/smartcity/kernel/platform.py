"""The Platform object: config, clock, store, bus and the running applications."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smartcity.kernel.app import App, order_apps
from smartcity.kernel.bus import Bus, open_bus
from smartcity.kernel.clock import Clock, RealClock
from smartcity.kernel.config import Settings
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.identity.token_keys import open_token_signer
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.storage import Store, open_store

log = logging.getLogger(__name__)
T = TypeVar("T")
# A start or stop hook: a coroutine function; blocking work goes through asyncio.to_thread.
Hook = Callable[[], Awaitable[None]]


@dataclass
class Platform:
    """Everything an app needs at run time, handed to its ``setup``."""

    settings: Settings
    clock: Clock
    store: Store
    bus: Bus
    apps: list[App] = field(default_factory=list)
    _states: dict[str, Any] = field(default_factory=dict, repr=False)
    _context: ContextLibrary | None = field(default=None, repr=False)
    _tokens: TokenSigner | None = field(default=None, repr=False)
    _on_start: list[Hook] = field(default_factory=list, repr=False)
    _on_stop: list[Hook] = field(default_factory=list, repr=False)

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        apps: Sequence[App] = (),
        clock: Clock | None = None,
        store: Store | None = None,
        bus: Bus | None = None,
        migrate: bool = True,
    ) -> Platform:
        """Open the store (migrating it), create the bus and set up ``apps`` in order."""
        settings = settings or Settings.from_env()
        ordered = order_apps(apps)
        if store is None:
            store = open_store(settings.resolved_database_url)
        if migrate:
            store.migrate([m for app in ordered for m in app.table_modules])
        platform = cls(
            settings=settings,
            clock=clock or RealClock(),
            store=store,
            bus=bus or open_bus(settings.bus_url),
            apps=ordered,
        )
        for app in ordered:
            log.debug("setting up app %s", app.name)
            platform._states[app.name] = app.setup(platform)
        return platform

    def state(self, app_name: str, kind: type[T]) -> T:
        """The runtime state app ``app_name`` returned from setup, checked to be a ``kind``."""
        try:
            value = self._states[app_name]
        except KeyError:
            raise ConfigurationError(f"app {app_name!r} is not installed") from None
        if not isinstance(value, kind):
            raise ConfigurationError(
                f"app {app_name!r} state is {type(value).__name__}, not {kind.__name__}"
            )
        return value

    @property
    def context(self) -> ContextLibrary:
        """The city information library (NGSI-LD entities) on this platform's store."""
        if self._context is None:
            self._context = ContextLibrary(self.store, self.bus, self.clock)
        return self._context

    @property
    def tokens(self) -> TokenSigner:
        """Issues and checks access tokens under the platform's token key."""
        if self._tokens is None:
            self._tokens = open_token_signer(self.settings.data_dir, self.clock.now())
        return self._tokens

    def on_start(self, hook: Hook) -> None:
        """Run ``hook`` when the platform starts serving (not when it is merely opened).

        Apps start their background threads here, so a platform opened by a command or a
        test leaves nothing running behind it. Hooks run on the event loop, in order.
        """
        self._on_start.append(hook)

    def on_stop(self, hook: Hook) -> None:
        """Run ``hook`` when the platform stops, before the bus and the store close.

        A hook waits for the app's background threads to finish what they hold, so no
        write outlives the platform. Hooks run on the event loop, last registered first.
        """
        self._on_stop.append(hook)

    async def start(self) -> None:
        """Start background work (bus delivery, then the apps' start hooks)."""
        await self.bus.start()
        for hook in self._on_start:
            await hook()

    async def stop(self) -> None:
        """Stop background work (the apps' stop hooks, then the bus) and release the store."""
        for hook in reversed(self._on_stop):
            try:
                await hook()
            except Exception:
                log.exception("a stop hook failed; stopping the rest")
        await self.bus.stop()
        self.store.close()
