"""The synthetic population on the TINY profile."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity import (
    DEPARTMENTS,
    Gender,
    Role,
    count_citizens_by_district,
    list_staff,
    parse_citizen_id,
    parse_uscc,
)
from smartcity.kernel.identity.tables import (
    identity_citizen,
    identity_department,
    identity_enterprise,
    identity_staff,
)
from smartcity.kernel.storage import Store
from smartcity.sim import population
from smartcity.sim.population import CommunitySlot, PopulationSummary, seed_population
from smartcity.sim.profiles import TINY, CityProfile
from smartcity.sim.progress import Advance, SilentProgress

TODAY = date(2026, 11, 21)
DISTRICT_WEIGHTS = {"440106": 3.0, "440111": 2.0, "440113": 1.0}


def _slots(
    profile_communities: int = TINY.communities, grids: int = TINY.grids_per_community
) -> list[CommunitySlot]:
    slots = []
    districts = list(DISTRICT_WEIGHTS)
    for index in range(profile_communities):
        district = districts[index % len(districts)]
        community = f"{district}{1 + index // 30:03d}{1 + index % 30:03d}"
        slots.append(
            CommunitySlot(
                community_code=community,
                district_code=district,
                grid_codes=tuple(f"{community}{g + 1:03d}" for g in range(grids)),
                population_weight=DISTRICT_WEIGHTS[district],
            )
        )
    return slots


def _seed(store: Store, seed: int = 20101, profile: CityProfile = TINY) -> PopulationSummary:
    return seed_population(
        store,
        profile=profile,
        seed=seed,
        progress=SilentProgress(),
        communities=_slots(),
    )


def _citizens(store: Store) -> list[tuple[object, ...]]:
    columns = [identity_citizen.c[name] for name in population.CITIZEN_COLUMNS]
    with store.connect() as conn:
        return [
            tuple(row) for row in conn.execute(select(*columns).order_by(identity_citizen.c.id))
        ]


def _enterprises(store: Store) -> list[tuple[object, ...]]:
    columns = [identity_enterprise.c[name] for name in population.ENTERPRISE_COLUMNS]
    with store.connect() as conn:
        return [
            tuple(row) for row in conn.execute(select(*columns).order_by(identity_enterprise.c.id))
        ]


def test_every_seeded_citizen_id_is_valid_and_matches_its_row(store: Store) -> None:
    summary = _seed(store)
    rows = _citizens(store)
    assert len(rows) == summary.citizens == TINY.citizens
    ids = [row[0] for row in rows]
    assert len(set(ids)) == len(ids)
    for national_id, name, gender, born, phone, community, grid, district, occupation, _ in rows:
        parsed = parse_citizen_id(str(national_id), today=TODAY)
        assert parsed.birth_date == born
        assert parsed.gender == Gender(str(gender))
        assert parsed.division_code == district
        assert str(community).startswith(str(district))
        assert str(grid).startswith(str(community))
        assert 2 <= len(str(name)) <= 4
        assert occupation
        # Ages count from the seed's fixed reference date; phones start at 12.
        age = (population.REFERENCE_DATE - parsed.birth_date).days / 365.2425
        assert (phone is None) == (age < 12), (age, phone)
        if phone is not None:
            assert len(str(phone)) == 11 and str(phone).startswith("1")


def test_population_looks_like_a_city(store: Store) -> None:
    _seed(store)
    rows = _citizens(store)
    genders = Counter(row[2] for row in rows)
    assert 0.45 < genders["M"] / len(rows) < 0.57
    ages = np.array([(TODAY - row[3]).days / 365.2425 for row in rows])  # type: ignore[operator]
    assert 0.10 < (ages < 15).mean() < 0.20
    assert 0.08 < (ages >= 60).mean() < 0.20
    assert 0.40 < ((ages >= 20) & (ages < 45)).mean() < 0.60
    households = Counter(row[9] for row in rows)
    assert set(households.values()) <= {1, 2, 3, 4, 5}
    assert 2.0 < len(rows) / len(households) < 2.8
    grids_of_household: dict[object, set[object]] = {}
    for row in rows:
        grids_of_household.setdefault(row[9], set()).add(row[6])
    assert all(len(grids) == 1 for grids in grids_of_household.values())


def test_counts_per_district_follow_the_weights(store: Store) -> None:
    summary = _seed(store)
    counts = count_citizens_by_district(store)
    assert counts == dict(summary.citizens_by_district)
    total = sum(DISTRICT_WEIGHTS.values())
    for district, weight in DISTRICT_WEIGHTS.items():
        expected = TINY.citizens * weight / total
        assert abs(counts[district] - expected) < 0.03 * expected
    # Each community holds its exact share, give or take the rounding of one person.
    slots = _slots()
    weight_sum = sum(slot.population_weight for slot in slots)
    with store.connect() as conn:
        per_community: dict[str, int] = dict(
            conn.execute(
                select(identity_citizen.c.community_code, func.count()).group_by(
                    identity_citizen.c.community_code
                )
            ).all()
        )
    for slot in slots:
        share = TINY.citizens * slot.population_weight / weight_sum
        assert abs(per_community[slot.community_code] - share) < 1


def test_enterprises_are_valid_unique_and_represented_by_adults(store: Store) -> None:
    summary = _seed(store)
    rows = _enterprises(store)
    assert len(rows) == summary.enterprises == TINY.enterprises
    assert len({row[0] for row in rows}) == len(rows)
    citizens = {row[0]: row for row in _citizens(store)}
    for uscc, name, representative, district, industry, registered in rows:
        parsed = parse_uscc(str(uscc))
        assert parsed.division_code == district
        assert str(name).endswith("公司") and str(name).startswith("广州")
        assert industry
        assert date(1990, 1, 1) <= registered <= TODAY  # type: ignore[operator]
        born = citizens[representative][3]
        assert 18 <= (TODAY - born).days / 365.2425 <= 80  # type: ignore[operator]


def test_departments_and_staff_are_seeded(store: Store) -> None:
    summary = _seed(store)
    assert summary.departments == len(DEPARTMENTS)
    assert summary.staff == len(DEPARTMENTS) * TINY.staff_per_department
    staff = list_staff(store)
    assert len(staff) == summary.staff
    assert {s.department_code for s in staff} == {d.code for d in DEPARTMENTS}
    roles = Counter(role for member in staff for role in member.roles)
    assert roles[Role.SUPERVISOR] >= len(DEPARTMENTS)
    assert roles[Role.DISPATCHER] >= 1


def _wipe(store: Store) -> None:
    with store.begin() as conn:
        for table in (identity_enterprise, identity_citizen, identity_staff, identity_department):
            conn.execute(delete(table))


def test_same_seed_same_city_other_seed_other_city(store: Store) -> None:
    _seed(store, seed=7)
    first_citizens, first_enterprises = _citizens(store)[:50], _enterprises(store)[:50]
    _wipe(store)
    _seed(store, seed=7)
    assert _citizens(store)[:50] == first_citizens
    assert _enterprises(store)[:50] == first_enterprises
    _wipe(store)
    _seed(store, seed=8)
    assert _citizens(store)[:50] != first_citizens


def test_many_chunks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks exercise the chunk boundaries: counters, households, representatives.
    monkeypatch.setattr(population, "CHUNK_SIZE", 150)
    summary = _seed(store, profile=replace(TINY, citizens=3_000, enterprises=700))
    rows = _citizens(store)
    assert len({row[0] for row in rows}) == len(rows) == 3_000
    assert len({row[9] for row in rows}) == summary.households
    with store.connect() as conn:
        representatives = conn.execute(
            select(func.count())
            .select_from(identity_enterprise)
            .join(
                identity_citizen,
                identity_citizen.c.national_id == identity_enterprise.c.legal_representative,
            )
        ).scalar_one()
    assert representatives == 700


def test_full_buckets_move_birth_days_and_keep_ids_unique() -> None:
    size = 1_300  # more than the 499 numbers of one (district, day, gender) bucket
    district = np.zeros(size, dtype=np.int64)
    day = np.full(size, 40_000, dtype=np.int64)
    male = np.ones(size, dtype=np.bool_)
    counters = np.zeros(2 * population._DAYS * 2, dtype=np.int32)
    ordinal, moved = population._allocate_sequences(district, day, male, counters)
    assert Counter(moved.tolist()) == {40_000: 499, 39_999: 499, 39_998: 302}
    assert len(set(zip(moved.tolist(), ordinal.tolist(), strict=True))) == size
    assert ordinal.max() == 498
    # The counters remember: the next person on that day moves straight on.
    again, moved_again = population._allocate_sequences(district[:1], day[:1], male[:1], counters)
    assert (int(moved_again[0]), int(again[0])) == (39_998, 302)


class _Recording:
    def __init__(self) -> None:
        self.steps: dict[str, list[int]] = {}

    @contextlib.contextmanager
    def step(self, description: str, total: int) -> Iterator[Advance]:
        advanced: list[int] = [total]
        self.steps[description] = advanced
        yield advanced.append


def test_progress_is_reported(store: Store) -> None:
    progress = _Recording()
    seed_population(store, profile=TINY, seed=1, progress=progress, communities=_slots())
    citizens = progress.steps["居民 citizens"]
    assert citizens[0] == TINY.citizens == sum(citizens[1:])
    enterprises = progress.steps["企业 enterprises"]
    assert enterprises[0] == TINY.enterprises == sum(enterprises[1:])


@pytest.mark.parametrize(
    "slots",
    [
        [],
        [CommunitySlot("440106001001", "440106", (), 1.0)],
        [CommunitySlot("440106001001", "440106", ("440106001002001",), 1.0)],
        [CommunitySlot("990106001001", "990106", ("990106001001001",), 1.0)],
        [CommunitySlot("440106001001", "440106", ("440106001001001",), -1.0)],
        [CommunitySlot("440106001001", "440106", ("440106001001001",), 0.0)],
    ],
)
def test_bad_communities_are_refused(store: Store, slots: list[CommunitySlot]) -> None:
    with pytest.raises(InvalidInput):
        seed_population(store, profile=TINY, seed=1, progress=SilentProgress(), communities=slots)
