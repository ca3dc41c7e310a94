"""Sizes of the synthetic city.

``demo`` is small enough to seed in seconds on a laptop; ``city`` is Guangzhou scale
(18.8 million residents, about 2,800 communities) for benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.kernel.errors import InvalidInput


@dataclass(frozen=True)
class CityProfile:
    name: str
    citizens: int
    communities: int
    grids_per_community: int
    enterprises: int
    staff_per_department: int


DEMO = CityProfile(
    name="demo",
    citizens=50_000,
    communities=400,
    grids_per_community=3,
    enterprises=5_000,
    staff_per_department=6,
)

CITY = CityProfile(
    name="city",
    citizens=18_800_000,
    communities=2_800,
    grids_per_community=8,
    enterprises=1_000_000,
    staff_per_department=40,
)

# A tiny city for unit tests: every stage runs, in well under a second.
TINY = CityProfile(
    name="tiny",
    citizens=2_000,
    communities=60,
    grids_per_community=2,
    enterprises=200,
    staff_per_department=2,
)

PROFILES = {p.name: p for p in (DEMO, CITY, TINY)}


def profile_named(name: str) -> CityProfile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise InvalidInput(f"unknown city profile {name!r}; known profiles: {known}") from None
