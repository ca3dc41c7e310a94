"""Platform: opening with apps in dependency order, typed state, start and stop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from smartcity.kernel.app import App
from smartcity.kernel.bus import Event
from smartcity.kernel.bus.local import LocalBus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage.base import SqlStore
from smartcity.kernel.storage.migrate import current_heads, script_heads


@dataclass(frozen=True)
class Greeted(Event):
    topic: ClassVar[str] = "alpha.greeted"
    who: str


@dataclass
class AlphaState:
    platform: Platform
    greeted: list[str] = field(default_factory=list)


@dataclass
class BetaState:
    alpha: AlphaState


def make_apps(calls: list[str]) -> list[App]:
    def setup_alpha(platform: Platform) -> AlphaState:
        calls.append("alpha")
        state = AlphaState(platform)

        async def on_greeted(event: Event) -> None:
            assert isinstance(event, Greeted)
            state.greeted.append(event.who)

        platform.bus.subscribe(Greeted.topic, on_greeted, name="alpha.greetings")
        return state

    def setup_beta(platform: Platform) -> BetaState:
        calls.append("beta")
        # Runs after alpha, so alpha's state is already there.
        return BetaState(alpha=platform.state("alpha", AlphaState))

    # Listed dependent-first on purpose: the platform must reorder.
    return [
        App(name="beta", setup=setup_beta, depends_on=["alpha"]),
        App(name="alpha", setup=setup_alpha),
    ]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


def test_open_sets_up_apps_in_dependency_order(settings: Settings) -> None:
    calls: list[str] = []
    clock = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    platform = Platform.open(settings, apps=make_apps(calls), clock=clock)
    try:
        assert calls == ["alpha", "beta"]
        assert [a.name for a in platform.apps] == ["alpha", "beta"]
        alpha = platform.state("alpha", AlphaState)
        assert alpha.platform is platform
        assert platform.state("beta", BetaState).alpha is alpha
        assert platform.clock is clock
        assert isinstance(platform.bus, LocalBus)
        assert (settings.data_dir / "smartcity.db").exists()
        assert isinstance(platform.store, SqlStore)
        assert current_heads(platform.store) == script_heads()
    finally:
        platform.store.close()


def test_state_is_type_checked(settings: Settings) -> None:
    platform = Platform.open(settings, apps=make_apps([]))
    try:
        with pytest.raises(ConfigurationError, match="'alpha' state is AlphaState, not BetaState"):
            platform.state("alpha", BetaState)
        with pytest.raises(ConfigurationError, match="'gamma' is not installed"):
            platform.state("gamma", AlphaState)
    finally:
        platform.store.close()


def test_bad_app_graph_fails_before_anything_is_set_up(settings: Settings) -> None:
    calls: list[str] = []
    apps = [*make_apps(calls), App(name="alpha", setup=lambda p: None)]
    with pytest.raises(ConfigurationError, match="two apps"):
        Platform.open(settings, apps=apps)
    assert calls == []


@pytest.mark.anyio
async def test_start_and_stop_run_the_bus(settings: Settings) -> None:
    platform = Platform.open(settings, apps=make_apps([]))
    alpha = platform.state("alpha", AlphaState)
    platform.bus.publish(Greeted("before start"))
    await platform.start()
    platform.bus.publish(Greeted("after start"))
    await platform.bus.drain()
    assert alpha.greeted == ["before start", "after start"]
    platform.bus.publish(Greeted("at shutdown"))
    await platform.stop()
    # stop delivered what was queued, then stopped the bus.
    assert alpha.greeted == ["before start", "after start", "at shutdown"]
    bus = platform.bus
    assert isinstance(bus, LocalBus) and not bus.running


@pytest.mark.anyio
async def test_start_hooks_run_in_order_and_stop_hooks_in_reverse(settings: Settings) -> None:
    platform = Platform.open(settings, apps=make_apps([]))
    calls: list[str] = []

    def hook(name: str, *, fail: bool = False) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            calls.append(name)
            if fail:
                raise RuntimeError(name)

        return run

    platform.on_start(hook("start a"))
    platform.on_start(hook("start b"))
    platform.on_stop(hook("stop a"))
    platform.on_stop(hook("stop b", fail=True))
    assert calls == []  # opening a platform starts nothing
    await platform.start()
    assert calls == ["start a", "start b"]
    await platform.stop()
    # A failing stop hook does not keep the others (or the bus) from stopping.
    assert calls == ["start a", "start b", "stop b", "stop a"]
    bus = platform.bus
    assert isinstance(bus, LocalBus) and not bus.running


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
