from __future__ import annotations

import pytest

from smartcity.kernel.audit import verify
from smartcity.kernel.errors import Conflict, InvalidInput
from smartcity.kernel.geo.queries import load_areas
from smartcity.kernel.identity import count_citizens_by_district
from smartcity.kernel.storage import Store
from smartcity.sim.accounts import DEMO_PEOPLE
from smartcity.sim.city import community_slots, seed_city, seeded_profile
from smartcity.sim.profiles import TINY, profile_named
from smartcity.sim.progress import SilentProgress


def test_seeding_builds_the_whole_city_and_records_it(store: Store, clock) -> None:
    summary = seed_city(store, profile=TINY, seed=7, progress=SilentProgress(), clock=clock)

    assert seeded_profile(store) == "tiny:7"
    assert summary.geography.districts == 11
    assert summary.population.citizens == TINY.citizens
    districts = {area.code for area in load_areas(store, "district")}
    by_district = count_citizens_by_district(store)
    assert set(by_district) == districts
    assert sum(by_district.values()) == TINY.citizens + DEMO_PEOPLE
    # Every community can take residents: it has grids whose codes nest in its own.
    slots = community_slots(store)
    assert len(slots) == summary.geography.communities
    assert all(slot.grid_codes for slot in slots)
    assert all(g.startswith(slot.community_code) for slot in slots for g in slot.grid_codes)
    # Every area and department is also an entity of the information library.
    assert summary.places.areas == sum(
        len(load_areas(store, level))
        for level in ("city", "district", "street", "community", "grid")
    )
    assert summary.places.organizations == summary.population.departments
    report = verify(store)
    # The seed itself and the demo accounts.
    assert report.ok and report.checked == 2


def test_a_seeded_database_refuses_a_second_city(store: Store, clock) -> None:
    seed_city(store, profile=TINY, seed=7, progress=SilentProgress(), clock=clock)
    with pytest.raises(Conflict, match="already holds a seeded city"):
        seed_city(store, profile=TINY, seed=8, progress=SilentProgress(), clock=clock)


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="known profiles: city, demo, tiny"):
        profile_named("metropolis")
