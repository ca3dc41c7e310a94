"""order_apps: dependency order and the configuration mistakes it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from smartcity.kernel.app import App, order_apps
from smartcity.kernel.errors import ConfigurationError


def _setup(_platform: Any) -> None:
    return None


def app(name: str, *deps: str) -> App:
    return App(name=name, setup=_setup, depends_on=deps)


def test_dependencies_come_first() -> None:
    apps = [app("hotline", "grid", "identity"), app("grid", "identity"), app("identity")]
    names = [a.name for a in order_apps(apps)]
    assert names.index("identity") < names.index("grid") < names.index("hotline")


def test_order_is_deterministic_whatever_the_input_order() -> None:
    apps = [app("b"), app("c", "a"), app("a"), app("d")]
    expected = [a.name for a in order_apps(apps)]
    assert [a.name for a in order_apps(reversed(apps))] == expected
    assert expected == ["a", "b", "c", "d"]


def test_no_apps_is_fine() -> None:
    assert order_apps([]) == []


def test_unknown_dependency_is_named() -> None:
    with pytest.raises(ConfigurationError, match="'hotline' depends on unknown app 'grid'"):
        order_apps([app("hotline", "grid")])


def test_cycle_is_shown() -> None:
    with pytest.raises(ConfigurationError, match="cycle: a -> b -> c -> a"):
        order_apps([app("a", "b"), app("b", "c"), app("c", "a")])


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(ConfigurationError, match="cycle: a -> a"):
        order_apps([app("a", "a")])


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="two apps are named 'a'"):
        order_apps([app("a"), app("a")])
