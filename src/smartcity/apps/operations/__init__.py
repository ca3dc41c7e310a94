"""城市运营中心 The city operations centre: the leaders' and duty officers' view of the city.

The first page shows the city's districts and streets on a map and the registered
population of each district. It owns no tables and writes nothing: everything it shows
is read from the kernel's geography and base registries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartcity.kernel.app import App

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform


def setup(platform: Platform) -> None:
    """Nothing to prepare: the pages read the kernel's registries on demand."""
    return None


APP = App(
    name="operations",
    setup=setup,
    routes_module="smartcity.apps.operations.routes",
)
