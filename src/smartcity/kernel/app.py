"""The contract every application plugs into.

An application package exposes ``APP = App(name=..., depends_on=[...], setup=...)``.
``setup`` receives the running :class:`~smartcity.kernel.platform.Platform` and returns
the app's typed runtime state (or ``None``); the platform keeps it, keyed by app name,
and starts apps in dependency order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smartcity.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform


@dataclass(frozen=True)
class App:
    """One application's declaration."""

    name: str
    setup: Callable[[Platform], Any]
    depends_on: Sequence[str] = field(default_factory=tuple)
    # Python module paths holding this app's tables, imported before migrations run.
    table_modules: Sequence[str] = field(default_factory=tuple)
    # Where the app's HTTP routes live (module with a ``router`` attribute), if any.
    routes_module: str | None = None
    # What the app adds to a freshly seeded demo city (bills, cards, notices ...), called
    # by ``smartcity seed``/``demo`` with the running platform and the city's seed.
    seed_demo: Callable[[Platform, int], None] | None = None


def order_apps(apps: Iterable[App]) -> list[App]:
    """Sort apps so every app comes after the apps it depends on.

    Raises :class:`ConfigurationError` on unknown dependencies, duplicate names or cycles.
    """
    by_name: dict[str, App] = {}
    for app in apps:
        if app.name in by_name:
            raise ConfigurationError(f"two apps are named {app.name!r}")
        by_name[app.name] = app
    for app in by_name.values():
        for dep in app.depends_on:
            if dep not in by_name:
                raise ConfigurationError(f"app {app.name!r} depends on unknown app {dep!r}")

    ordered: list[App] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(app: App, trail: tuple[str, ...]) -> None:
        mark = state.get(app.name)
        if mark == 2:
            return
        if mark == 1:
            cycle = " -> ".join((*trail, app.name))
            raise ConfigurationError(f"apps depend on each other in a cycle: {cycle}")
        state[app.name] = 1
        for dep in sorted(app.depends_on):
            visit(by_name[dep], (*trail, app.name))
        state[app.name] = 2
        ordered.append(app)

    for name in sorted(by_name):
        visit(by_name[name], ())
    return ordered
