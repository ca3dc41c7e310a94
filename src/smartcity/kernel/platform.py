"""The Platform object: config, clock, store, bus and the running applications."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smartcity.kernel.app import App, order_apps
from smartcity.kernel.bus import Bus, open_bus
from smartcity.kernel.clock import Clock, RealClock
from smartcity.kernel.config import Settings
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.secrets import secret_bytes
from smartcity.kernel.storage import Store, open_store

log = logging.getLogger(__name__)
T = TypeVar("T")


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
            self._tokens = TokenSigner(secret_bytes(self.settings.data_dir, "token_key"))
        return self._tokens

    async def start(self) -> None:
        """Start background work (bus delivery)."""
        await self.bus.start()

    async def stop(self) -> None:
        """Stop background work and release the store."""
        await self.bus.stop()
        self.store.close()
