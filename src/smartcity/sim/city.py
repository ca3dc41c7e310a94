"""Seeding the synthetic city: geography, then people, enterprises and departments.

Deterministic for a given seed. What was seeded is recorded in ``platform_meta`` so a
second seed into the same database is refused instead of doubling the city.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from smartcity.kernel import audit
from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import Clock, RealClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.errors import Conflict
from smartcity.kernel.geo.queries import load_areas
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.tables import platform_meta
from smartcity.sim.accounts import seed_demo_accounts
from smartcity.sim.geography import GeographySummary, seed_geography
from smartcity.sim.places import PlacesSummary, publish_places
from smartcity.sim.population import CommunitySlot, PopulationSummary, seed_population
from smartcity.sim.profiles import CityProfile
from smartcity.sim.progress import Progress

SEEDED_KEY = "city.seeded"


@dataclass(frozen=True)
class CitySummary:
    profile: str
    seed: int
    geography: GeographySummary
    population: PopulationSummary
    places: PlacesSummary
    seconds: float


def seeded_profile(store: Store) -> str | None:
    """The profile this database was seeded with (``"demo:20101"``), or ``None``."""
    with store.connect() as conn:
        return conn.execute(
            select(platform_meta.c.value).where(platform_meta.c.key == SEEDED_KEY)
        ).scalar_one_or_none()


def community_slots(store: Store) -> list[CommunitySlot]:
    """Every community with its grids and weight: where residents can be placed."""
    grids_by_community: dict[str, list[str]] = {}
    for grid in load_areas(store, "grid"):
        if grid.parent_code is not None:
            grids_by_community.setdefault(grid.parent_code, []).append(grid.code)
    return [
        CommunitySlot(
            community_code=community.code,
            district_code=community.code[:6],
            grid_codes=tuple(sorted(grids_by_community.get(community.code, ()))),
            population_weight=community.population_weight,
        )
        for community in load_areas(store, "community")
    ]


def seed_city(
    store: Store,
    *,
    profile: CityProfile,
    seed: int,
    progress: Progress,
    clock: Clock | None = None,
) -> CitySummary:
    """Seed an empty database with a synthetic city. Refuses a database already seeded."""
    existing = seeded_profile(store)
    if existing is not None:
        raise Conflict(
            f"this database already holds a seeded city ({existing}); use a new database",
            seeded=existing,
        )
    started = time.perf_counter()
    geography = seed_geography(store, profile=profile, seed=seed, progress=progress)
    population = seed_population(
        store,
        profile=profile,
        seed=seed,
        progress=progress,
        communities=community_slots(store),
    )
    clock = clock or RealClock()
    # Areas and departments join the information library so every department can
    # query and join on them. Nobody listens while seeding: the bus is never started.
    library = ContextLibrary(store, open_bus("local"), clock)
    places = publish_places(library, store, progress=progress)
    seed_demo_accounts(store, clock)
    with store.begin() as conn:
        conn.execute(
            platform_meta.insert().values(
                key=SEEDED_KEY, value=f"{profile.name}:{seed}", updated_at=clock.now()
            )
        )
        audit.append(
            conn,
            clock,
            actor="system:seed",
            action="city.seeded",
            subject=f"city:{profile.name}:{seed}",
            details={
                "citizens": population.citizens,
                "enterprises": population.enterprises,
                "departments": population.departments,
                "communities": geography.communities,
                "grids": geography.grids,
                "place_entities": places.areas + places.organizations,
            },
        )
    return CitySummary(
        profile=profile.name,
        seed=seed,
        geography=geography,
        population=population,
        places=places,
        seconds=time.perf_counter() - started,
    )
