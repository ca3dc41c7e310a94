"""The synthetic population: departments and their staff, citizens, enterprises.

Deterministic for a given seed. Built for the city profile (18.8 million residents, one
million enterprises) on a small machine, so citizens are generated in chunks with numpy
and written straight through the driver:

- Every column of a chunk is computed as an array (ages, birth dates, sequence numbers and
  check characters included); rows are then zipped into tuples with no per-row Python
  logic.
- Citizen IDs are unique by construction, with no set of the IDs seen so far: each
  (district, birth date, gender) bucket hands out its 499 sequence numbers from a counter,
  and a person whose bucket is full is born one day earlier.
- Communities are visited in district order, so each chunk's IDs (which start with the
  district code) land in one region of the unique index, keeping its pages in cache.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Table, func, select

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity.citizen_id import check_characters
from smartcity.kernel.identity.departments import DEPARTMENTS
from smartcity.kernel.identity.divisions import GUANGZHOU_DISTRICTS, place_problem
from smartcity.kernel.identity.models import Department, DepartmentKind
from smartcity.kernel.identity.roles import Role, format_roles
from smartcity.kernel.identity.tables import (
    identity_citizen,
    identity_department,
    identity_enterprise,
    identity_staff,
)
from smartcity.kernel.identity.uscc import ALPHABET, ORGANISATION_WEIGHTS
from smartcity.kernel.identity.uscc import WEIGHTS as USCC_WEIGHTS
from smartcity.kernel.storage import Store
from smartcity.sim import population_data as data
from smartcity.sim.profiles import CityProfile
from smartcity.sim.progress import Progress

# Ages are counted back from a fixed date, not from today, so a seed gives the same city
# whenever it runs.
REFERENCE_DATE = date(2026, 1, 1)
EPOCH = date(1900, 1, 1)
_EPOCH64 = np.datetime64(EPOCH.isoformat(), "D")
_REFERENCE_DAY = (REFERENCE_DATE - EPOCH).days
_DAYS = _REFERENCE_DAY + 1
_DAYS_PER_YEAR = 365.2425

# Rows generated and committed at a time: large enough to amortise numpy and the
# transaction, small enough to keep a chunk's Python objects well under a gigabyte.
CHUNK_SIZE = 150_000

# Each (district, birth date, gender) bucket has 499 sequence numbers: odd 001-997 for
# men, even 002-998 for women. The counter's n-th number is scrambled by a bijection of
# 0..498 (499 is prime) so sequence numbers look spread out rather than counting up.
_SEQUENCE_SLOTS = 499
_SEQUENCE_STEP = 337
_SEQUENCE_SALT = 211

# Independent random streams, so adding a stage never changes another stage's output.
_STREAM_STAFF = 1
_STREAM_CITIZENS = 2
_STREAM_ENTERPRISES = 3

CITIZEN_COLUMNS = (
    "national_id",
    "name",
    "gender",
    "birth_date",
    "phone",
    "community_code",
    "grid_code",
    "district_code",
    "occupation",
    "household_id",
)
ENTERPRISE_COLUMNS = (
    "uscc",
    "name",
    "legal_representative",
    "district_code",
    "industry",
    "registered_at",
)


@dataclass(frozen=True)
class CommunitySlot:
    """A community residents can be placed in, with its unit grids and relative weight."""

    community_code: str
    district_code: str
    grid_codes: tuple[str, ...]
    population_weight: float


@dataclass(frozen=True)
class PopulationSummary:
    """What :func:`seed_population` wrote."""

    departments: int
    staff: int
    citizens: int
    households: int
    enterprises: int
    citizens_by_district: Mapping[str, int]


def seed_population(
    store: Store,
    *,
    profile: CityProfile,
    seed: int,
    progress: Progress,
    communities: Sequence[CommunitySlot],
) -> PopulationSummary:
    """Seed departments and staff, ``profile.citizens`` residents spread over
    ``communities`` by weight (uniformly over each community's grids), and
    ``profile.enterprises`` enterprises whose legal representatives are seeded adults.

    Deterministic for a given ``seed``. Every citizen ID and USCC is valid and unique;
    an ID's division code is the resident's district, a USCC's the enterprise's.
    """
    if seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer, got {seed}", part="seed")
    for name in ("citizens", "enterprises", "staff_per_department"):
        if getattr(profile, name) < 0:
            raise InvalidInput(f"profile.{name} must not be negative", part="profile")
    if profile.enterprises > 0 and profile.citizens == 0:
        raise InvalidInput(
            "enterprises need citizens to be their legal representatives", part="profile"
        )
    slots = _checked_slots(communities, required=profile.citizens > 0)
    departments = _seed_departments(store, progress)
    staff = _seed_staff(store, profile.staff_per_department, seed, progress)
    citizens = _seed_citizens(store, profile.citizens, slots, seed, progress, profile.enterprises)
    _seed_enterprises(store, profile.enterprises, slots, seed, progress, citizens.representatives)
    return PopulationSummary(
        departments=departments,
        staff=staff,
        citizens=profile.citizens,
        households=citizens.households,
        enterprises=profile.enterprises,
        citizens_by_district=MappingProxyType(citizens.by_district),
    )


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, index])


def _checked_slots(communities: Sequence[CommunitySlot], *, required: bool) -> list[CommunitySlot]:
    seen: set[str] = set()
    for slot in communities:
        if slot.community_code in seen:
            raise InvalidInput(
                f"community {slot.community_code} is listed twice", part="communities"
            )
        seen.add(slot.community_code)
        if not slot.grid_codes:
            raise InvalidInput(f"community {slot.community_code} has no grids", part="communities")
        for grid in slot.grid_codes:
            problem = place_problem(slot.district_code, slot.community_code, grid)
            if problem is not None:
                raise InvalidInput(problem, part="communities")
        if not math.isfinite(slot.population_weight) or slot.population_weight < 0:
            raise InvalidInput(
                f"community {slot.community_code} has weight {slot.population_weight}; "
                "weights must be finite and not negative",
                part="communities",
            )
    if required and sum(slot.population_weight for slot in communities) <= 0:
        raise InvalidInput(
            "citizens need at least one community with a positive weight", part="communities"
        )
    # District order keeps each chunk's citizen IDs together in the unique index.
    return sorted(communities, key=lambda s: (s.district_code, s.community_code))


# -- departments and staff --------------------------------------------------------------


def _department_row(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "name": department.name,
        "name_en": department.name_en,
        "short_name": department.short_name,
        "kind": department.kind.value,
        "district_code": department.district_code,
    }


def _seed_departments(store: Store, progress: Progress) -> int:
    with progress.step("部门 departments", len(DEPARTMENTS)) as advance, store.begin() as conn:
        existing = set(conn.execute(select(identity_department.c.code)).scalars())
        rows = [_department_row(d) for d in DEPARTMENTS if d.code not in existing]
        store.bulk_insert(conn, identity_department, rows)
        advance(len(DEPARTMENTS))
    return len(rows)


# Enforcement bureaus send inspectors to the street; the hotline centre and the data
# bureau dispatch cases.
_INSPECTING = frozenset({"GZ-CGJ", "GZ-SCJGJ", "GZ-STHJJ", "GZ-YJGLJ", "GZ-ZJJ", "GZ-SWJ"})
_DISPATCHING = frozenset({"GZ-RXZX", "GZ-ZSJ"})


def _staff_roles(department: Department, index: int, rng: np.random.Generator) -> list[Role]:
    # The first few posts make sure every department can run a case end to end even in
    # the tiny profile: a supervisor, a case handler, a dispatcher, an administrator.
    if index == 0:
        return [Role.SUPERVISOR]
    if index == 1:
        if department.code in _DISPATCHING:
            return [Role.DISPATCHER]
        return [Role.INSPECTOR if department.code in _INSPECTING else Role.OFFICER]
    if index == 2:
        return [Role.DISPATCHER]
    if index == 3:
        return [Role.ADMINISTRATOR]
    draw = rng.random()
    if department.code in _INSPECTING:
        role = Role.INSPECTOR if draw < 0.6 else Role.OFFICER
    elif department.code in _DISPATCHING or department.kind is DepartmentKind.DISTRICT_GOVERNMENT:
        role = Role.DISPATCHER if draw < 0.4 else Role.OFFICER
    else:
        role = Role.OFFICER if draw < 0.85 else Role.INSPECTOR
    roles = [role]
    if rng.random() < 0.05:
        roles.append(Role.SUPERVISOR)
    return roles


def _seed_staff(store: Store, per_department: int, seed: int, progress: Progress) -> int:
    rng = _rng(seed, _STREAM_STAFF)
    total = per_department * len(DEPARTMENTS)
    names = _names(rng, rng.random(total) < data.MALE_SHARE).tolist()
    rows: list[dict[str, Any]] = []
    for d_index, department in enumerate(DEPARTMENTS):
        for index in range(per_department):
            rows.append(
                {
                    "department_code": department.code,
                    "name": names[d_index * per_department + index],
                    "roles": format_roles(_staff_roles(department, index, rng)),
                    "employee_number": f"{department.code}-{index + 1:04d}",
                }
            )
    with progress.step("工作人员 staff", total) as advance, store.begin() as conn:
        existing = set(conn.execute(select(identity_staff.c.employee_number)).scalars())
        fresh = [row for row in rows if row["employee_number"] not in existing]
        store.bulk_insert(conn, identity_staff, fresh)
        advance(total)
    return len(fresh)


# -- names --------------------------------------------------------------------------------


def _unicode_array(values: Sequence[str]) -> NDArray[np.str_]:
    return np.array(list(values), dtype=np.str_)


_SURNAMES = _unicode_array([s for s, _ in data.SURNAMES])
_SURNAME_P = np.array([w for _, w in data.SURNAMES]) / sum(w for _, w in data.SURNAMES)
_MALE_CHARACTERS = _unicode_array(data.MALE_NAME_CHARACTERS)
_FEMALE_CHARACTERS = _unicode_array(data.FEMALE_NAME_CHARACTERS)


def _given_character(rng: np.random.Generator, male: NDArray[np.bool_]) -> NDArray[np.str_]:
    size = male.shape[0]
    men = _MALE_CHARACTERS[rng.integers(0, _MALE_CHARACTERS.shape[0], size)]
    women = _FEMALE_CHARACTERS[rng.integers(0, _FEMALE_CHARACTERS.shape[0], size)]
    chosen: NDArray[np.str_] = np.where(male, men, women)
    return chosen


def _names(rng: np.random.Generator, male: NDArray[np.bool_]) -> NDArray[np.str_]:
    """Full names (surname + one or two given-name characters), vectorised."""
    size = male.shape[0]
    surnames = _SURNAMES[rng.choice(_SURNAMES.shape[0], size=size, p=_SURNAME_P)]
    first = _given_character(rng, male)
    second = _given_character(rng, male)
    two = rng.random(size) < data.TWO_CHARACTER_GIVEN_NAME_SHARE
    given = np.strings.add(first, np.where(two, second, ""))
    result: NDArray[np.str_] = np.strings.add(surnames, given)
    return result


# -- citizens -----------------------------------------------------------------------------


@dataclass
class _CitizenResult:
    households: int
    by_district: dict[str, int]
    representatives: list[str]


@dataclass(frozen=True)
class _Layout:
    """Lookup arrays of the communities, grids and districts for vectorised generation."""

    district_codes: list[str]
    district_digits: NDArray[np.uint8]  # (districts, 6)
    district_of_slot: NDArray[np.int64]
    community_codes: NDArray[np.object_]  # per slot
    district_objects: NDArray[np.object_]  # per district
    grid_codes: NDArray[np.object_]  # all grids, slot by slot
    grid_offset: NDArray[np.int64]  # per slot: index of its first grid
    grid_count: NDArray[np.int64]  # per slot
    slot_of_grid: NDArray[np.int64]


def _layout(slots: Sequence[CommunitySlot]) -> _Layout:
    district_codes = sorted({s.district_code for s in slots})
    district_index = {code: i for i, code in enumerate(district_codes)}
    grid_count = np.array([len(s.grid_codes) for s in slots], dtype=np.int64)
    grid_offset = np.concatenate(([0], np.cumsum(grid_count)[:-1])).astype(np.int64)
    return _Layout(
        district_codes=district_codes,
        district_digits=np.array(
            [[int(c) for c in code] for code in district_codes], dtype=np.uint8
        ).reshape(-1, 6),
        district_of_slot=np.array([district_index[s.district_code] for s in slots], dtype=np.int64),
        community_codes=np.array([s.community_code for s in slots], dtype=object),
        district_objects=np.array(district_codes, dtype=object),
        grid_codes=np.array([g for s in slots for g in s.grid_codes], dtype=object),
        grid_offset=grid_offset,
        grid_count=grid_count,
        slot_of_grid=np.repeat(np.arange(len(slots), dtype=np.int64), grid_count),
    )


def _chunks(counts: NDArray[np.int64], size: int) -> list[tuple[int, int]]:
    """Runs of consecutive communities holding about ``size`` residents each."""
    chunks: list[tuple[int, int]] = []
    start, filled = 0, 0
    for index, count in enumerate(counts.tolist()):
        filled += count
        if filled >= size:
            chunks.append((start, index + 1))
            start, filled = index + 1, 0
    if start < len(counts):
        chunks.append((start, len(counts)))
    return chunks


def _allocate_sequences(
    district: NDArray[np.int64],
    day: NDArray[np.int64],
    male: NDArray[np.bool_],
    counters: NDArray[np.int32],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The n-th free slot of each person's (district, day, gender) bucket, vectorised.

    Returns (ordinal within bucket, possibly moved birth day). ``counters`` holds how many
    slots each bucket has handed out and is updated in place.
    """
    ordinal = np.empty(day.shape[0], dtype=np.int64)
    day = day.copy()
    pending = np.arange(day.shape[0])
    while pending.size:
        keys = (district[pending] * _DAYS + day[pending]) * 2 + male[pending]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        positions = np.arange(sorted_keys.shape[0])
        first = np.empty(sorted_keys.shape[0], dtype=np.bool_)
        first[:1] = True
        first[1:] = sorted_keys[1:] != sorted_keys[:-1]
        group_start = np.maximum.accumulate(np.where(first, positions, 0))
        candidate = counters[sorted_keys] + (positions - group_start)
        fits = candidate < _SEQUENCE_SLOTS
        ordinal[pending[order[fits]]] = candidate[fits]
        np.add.at(counters, sorted_keys[fits], 1)
        # A full bucket: be born a day earlier and try that day's bucket.
        pending = pending[order[~fits]]
        day[pending] -= 1
        if pending.size and int(day[pending].min()) < 0:
            raise InvalidInput(
                "too many residents per district to give each a unique citizen ID",
                part="citizens",
            )
    return ordinal, day


def _date_parts(
    dates: NDArray[np.datetime64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months_since_1970 = dates.astype("datetime64[M]")
    months = months_since_1970.astype(np.int64) % 12 + 1
    days = (dates - months_since_1970).astype(np.int64) + 1
    return years, months, days


def _ascii_strings(matrix: NDArray[np.uint8]) -> list[str]:
    """Rows of an (n, k) ASCII byte matrix as Python strings."""
    width = matrix.shape[1]
    as_bytes = np.ascontiguousarray(matrix).view(f"S{width}").ravel()
    strings: list[str] = as_bytes.astype(f"U{width}").tolist()
    return strings


_AGE_P = np.array(data.AGE_BAND_SHARES) / sum(data.AGE_BAND_SHARES)
_HOUSEHOLD_P = np.array(data.HOUSEHOLD_SIZE_SHARES) / sum(data.HOUSEHOLD_SIZE_SHARES)
_MOBILE_PREFIXES = np.array(data.MOBILE_PREFIXES, dtype=np.int64)
_OCCUPATIONS = np.array(
    [o for o, _ in data.OCCUPATIONS]
    + [data.PRESCHOOL, data.PUPIL, data.UNIVERSITY_STUDENT, data.RETIRED],
    dtype=object,
)
_OCCUPATION_P = np.array([w for _, w in data.OCCUPATIONS]) / sum(w for _, w in data.OCCUPATIONS)
_PRESCHOOL, _PUPIL, _UNIVERSITY, _RETIRED = range(len(data.OCCUPATIONS), len(_OCCUPATIONS))
_GENDERS = np.array(["F", "M"], dtype=object)


@dataclass
class _CitizenBatch:
    rows: list[tuple[Any, ...]]
    next_household: int
    representatives: list[str]


def _citizen_batch(
    rng: np.random.Generator,
    layout: _Layout,
    slot_range: tuple[int, int],
    counts: NDArray[np.int64],
    counters: NDArray[np.int32],
    first_household: int,
    representatives: int,
) -> _CitizenBatch:
    start, stop = slot_range
    slot_ids = np.arange(start, stop, dtype=np.int64)
    slot_of = np.repeat(slot_ids, counts[start:stop])
    size = slot_of.shape[0]
    # Grid uniformly within the community; sorted so each household sits in one grid.
    within = (rng.random(size) * layout.grid_count[slot_of]).astype(np.int64)
    grid = np.sort(layout.grid_offset[slot_of] + within)
    slot_of = layout.slot_of_grid[grid]
    district = layout.district_of_slot[slot_of]

    male = rng.random(size) < data.MALE_SHARE
    band = rng.choice(_AGE_P.shape[0], size=size, p=_AGE_P)
    age_days = ((band + rng.random(size)) * 5 * _DAYS_PER_YEAR).astype(np.int64)
    ordinal, day = _allocate_sequences(district, _REFERENCE_DAY - age_days, male, counters)
    age = ((_REFERENCE_DAY - day) / _DAYS_PER_YEAR).astype(np.int64)

    # Citizen IDs: 17 digits, then the MOD 11-2 check character.
    dates = _EPOCH64 + day
    years, months, days = _date_parts(dates)
    keys = (district * _DAYS + day) * 2 + male
    scrambled = (ordinal * _SEQUENCE_STEP + (keys % _SEQUENCE_SLOTS) * _SEQUENCE_SALT) % (
        _SEQUENCE_SLOTS
    )
    sequence = np.where(male, 2 * scrambled + 1, 2 * scrambled + 2)
    digits = np.empty((size, 17), dtype=np.uint8)
    digits[:, :6] = layout.district_digits[district]
    for column, value in enumerate(
        (years // 1000, years // 100 % 10, years // 10 % 10, years % 10,
         months // 10, months % 10, days // 10, days % 10,
         sequence // 100, sequence // 10 % 10, sequence % 10),
    ):  # fmt: skip
        digits[:, 6 + column] = value
    characters = np.empty((size, 18), dtype=np.uint8)
    characters[:, :17] = digits + ord("0")
    characters[:, 17] = check_characters(digits)
    national_ids = _ascii_strings(characters)

    names = _names(rng, male)
    phone_numbers = (
        _MOBILE_PREFIXES[rng.integers(0, _MOBILE_PREFIXES.shape[0], size)] * 100_000_000
        + rng.integers(0, 100_000_000, size)
    ).astype("U11")
    phones = np.full(size, None, dtype=object)
    has_phone = age >= data.PHONE_FROM_AGE
    phones[has_phone] = phone_numbers[has_phone]

    occupation = rng.choice(_OCCUPATION_P.shape[0], size=size, p=_OCCUPATION_P)
    draw = rng.random(size)
    retirement_age = np.where(male, data.RETIREMENT_AGE_MALE, data.RETIREMENT_AGE_FEMALE)
    occupation = np.select(
        [
            age < 6,
            age < 18,
            (age <= 22) & (draw < data.UNIVERSITY_SHARE_18_22),
            (age >= retirement_age) & (draw >= data.STILL_WORKING_AFTER_RETIREMENT_AGE),
        ],
        [_PRESCHOOL, _PUPIL, _UNIVERSITY, _RETIRED],
        occupation,
    )

    # Households: runs of consecutive residents of one grid, sizes 1-5.
    sizes = rng.choice(_HOUSEHOLD_P.shape[0], size=size, p=_HOUSEHOLD_P) + 1
    ends = np.cumsum(sizes)
    starts = np.zeros(size, dtype=np.bool_)
    starts[:1] = True
    starts[ends[ends < size]] = True
    starts[1:] |= grid[1:] != grid[:-1]
    household = first_household + np.cumsum(starts) - 1

    adults = np.flatnonzero(
        (age >= data.REPRESENTATIVE_AGES[0]) & (age <= data.REPRESENTATIVE_AGES[1])
    )
    chosen: list[str] = []
    if representatives and adults.size:
        picks = rng.choice(adults, size=representatives).tolist()
        chosen = [national_ids[i] for i in picks]

    rows = list(
        zip(
            national_ids,
            names.tolist(),
            _GENDERS[male.astype(np.int64)].tolist(),
            dates.astype("U10").tolist(),
            phones.tolist(),
            layout.community_codes[slot_of].tolist(),
            layout.grid_codes[grid].tolist(),
            layout.district_objects[district].tolist(),
            _OCCUPATIONS[occupation].tolist(),
            household.tolist(),
            strict=True,
        )
    )
    next_household = int(household[-1]) + 1 if size else first_household
    return _CitizenBatch(rows=rows, next_household=next_household, representatives=chosen)


def _apportion(total: int, weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """``total`` split in proportion to ``weights`` (largest remainders get the rest).

    Exact rather than random: community populations should follow the geography's
    weights, not wander by sampling noise.
    """
    shares = weights / weights.sum() * total
    counts: NDArray[np.int64] = np.floor(shares).astype(np.int64)
    missing = total - int(counts.sum())
    if missing:
        counts[np.argsort(counts - shares, kind="stable")[:missing]] += 1
    return counts


def _next_household(store: Store) -> int:
    with store.connect() as conn:
        highest = conn.execute(select(func.max(identity_citizen.c.household_id))).scalar()
    return int(highest) + 1 if highest is not None else 1


def _seed_citizens(
    store: Store,
    total: int,
    slots: Sequence[CommunitySlot],
    seed: int,
    progress: Progress,
    representatives: int,
) -> _CitizenResult:
    if total == 0:
        with progress.step("居民 citizens", 0):
            return _CitizenResult(households=0, by_district={}, representatives=[])
    layout = _layout(slots)
    weights = np.array([s.population_weight for s in slots], dtype=np.float64)
    counts = _apportion(total, weights)
    by_district = np.bincount(
        layout.district_of_slot, weights=counts, minlength=len(layout.district_codes)
    )
    counters = np.zeros(len(layout.district_codes) * _DAYS * 2, dtype=np.int32)
    first_household = household = _next_household(store)
    chosen: list[str] = []
    done = owed = 0
    with progress.step("居民 citizens", total) as advance:
        for index, slot_range in enumerate(_chunks(counts, CHUNK_SIZE)):
            size = int(counts[slot_range[0] : slot_range[1]].sum())
            # Representatives in proportion to each chunk's residents (their total is
            # exactly ``representatives``); a chunk without adults passes its share on.
            owed += (representatives * (done + size)) // total - (representatives * done) // total
            batch = _citizen_batch(
                _rng(seed, _STREAM_CITIZENS, index),
                layout,
                slot_range,
                counts,
                counters,
                household,
                owed,
            )
            with store.begin() as conn:
                _insert(store, conn, identity_citizen, CITIZEN_COLUMNS, batch.rows)
            household = batch.next_household
            chosen.extend(batch.representatives)
            owed -= len(batch.representatives)
            done += size
            advance(size)
    if owed and chosen:
        extra = _rng(seed, _STREAM_CITIZENS, 2**31).choice(len(chosen), size=owed)
        chosen.extend(chosen[i] for i in extra.tolist())
    if representatives and len(chosen) < representatives:
        raise InvalidInput("no adult citizens to represent enterprises", part="citizens")
    return _CitizenResult(
        households=household - first_household,
        by_district={
            code: int(n) for code, n in zip(layout.district_codes, by_district, strict=True)
        },
        representatives=chosen,
    )


# -- enterprises --------------------------------------------------------------------------

_INDUSTRY_NAMES = np.array([name for name, _, _ in data.INDUSTRIES], dtype=object)
_INDUSTRY_P = np.array([w for _, w, _ in data.INDUSTRIES]) / sum(w for _, w, _ in data.INDUSTRIES)
_INDUSTRY_WORDS = _unicode_array([word for _, _, words in data.INDUSTRIES for word in words])
_INDUSTRY_WORD_COUNT = np.array([len(words) for _, _, words in data.INDUSTRIES], dtype=np.int64)
_INDUSTRY_WORD_OFFSET = np.concatenate(([0], np.cumsum(_INDUSTRY_WORD_COUNT)[:-1]))
_TRADE_CHARACTERS = _unicode_array(list(dict.fromkeys(data.TRADE_NAME_CHARACTERS)))
_REGISTRATION_YEARS = np.arange(data.FIRST_REGISTRATION_YEAR, REFERENCE_DATE.year)
_REGISTRATION_P = np.exp(
    data.REGISTRATION_GROWTH * (_REGISTRATION_YEARS - data.FIRST_REGISTRATION_YEAR)
)
_REGISTRATION_P /= _REGISTRATION_P.sum()

# USCC alphabet value and GB 11714 value of each ASCII code.
_USCC_VALUE = np.zeros(128, dtype=np.int64)
_USCC_VALUE[np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(ALPHABET))
_ORGANISATION_VALUE = np.zeros(128, dtype=np.int64)
_ORGANISATION_VALUE[ord("0") : ord("9") + 1] = np.arange(10)
_ORGANISATION_VALUE[ord("A") : ord("Z") + 1] = np.arange(10, 36)
_ALPHABET_ASCII = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
# Organisation check: remainder r of the weighted sum gives 11 - r, written X for 10, 0 for 11.
_ORGANISATION_CHECK_ASCII = np.frombuffer(b"0X987654321", dtype=np.uint8)

# Organisation code bodies come from a bijection of the enterprise's index, so they are
# unique without remembering them: "MA" + 6 base-31 characters, or 8 decimal digits for
# companies registered before market regulation took over numbering.
_MODULUS_31 = 31**6
_MODULUS_10 = 10**8
_MULTIPLIER_31 = 617_210_873  # not a multiple of 31
_MULTIPLIER_10 = 48_271_139  # odd and not a multiple of 5


def _organisation_bodies(
    index: NDArray[np.int64], modern: NDArray[np.bool_], offset: int
) -> NDArray[np.uint8]:
    size = index.shape[0]
    body = np.empty((size, 8), dtype=np.uint8)
    base31 = (index * _MULTIPLIER_31 + offset) % _MODULUS_31
    base10 = (index * _MULTIPLIER_10 + offset) % _MODULUS_10
    body[:, 0] = np.where(modern, ord("M"), 0)
    body[:, 1] = np.where(modern, ord("A"), 0)
    for position in range(7, 1, -1):
        body[:, position] = np.where(modern, _ALPHABET_ASCII[base31 % 31], ord("0") + base10 % 10)
        base31 //= 31
        base10 //= 10
    body[:, 1] = np.where(modern, body[:, 1], ord("0") + base10 % 10)
    body[:, 0] = np.where(modern, body[:, 0], ord("0") + base10 // 10 % 10)
    return body


def _uscc_strings(district_digits: NDArray[np.uint8], bodies: NDArray[np.uint8]) -> list[str]:
    size = bodies.shape[0]
    characters = np.empty((size, 18), dtype=np.uint8)
    characters[:, 0] = ord("9")  # registered by market regulation (工商)
    characters[:, 1] = ord("1")  # an enterprise
    characters[:, 2:8] = district_digits + ord("0")
    characters[:, 8:16] = bodies
    organisation_sum = _ORGANISATION_VALUE[bodies] @ np.array(ORGANISATION_WEIGHTS)
    characters[:, 16] = _ORGANISATION_CHECK_ASCII[organisation_sum % 11]
    final_sum = _USCC_VALUE[characters[:, :17]] @ np.array(USCC_WEIGHTS)
    characters[:, 17] = _ALPHABET_ASCII[(31 - final_sum % 31) % 31]
    return _ascii_strings(characters)


def _seed_enterprises(
    store: Store,
    total: int,
    slots: Sequence[CommunitySlot],
    seed: int,
    progress: Progress,
    representatives: list[str],
) -> None:
    if total == 0:
        with progress.step("企业 enterprises", 0):
            return
    layout = _layout(slots)
    weights = np.bincount(
        layout.district_of_slot,
        weights=[s.population_weight for s in slots],
        minlength=len(layout.district_codes),
    )
    district_p = weights / weights.sum()
    places = np.array(
        [
            f"广州市{GUANGZHOU_DISTRICTS[code]}" if code in GUANGZHOU_DISTRICTS else "广州市"
            for code in layout.district_codes
        ],
        dtype=np.str_,
    )
    setup = _rng(seed, _STREAM_ENTERPRISES)
    order = setup.permutation(len(representatives))
    offset = int(setup.integers(0, _MODULUS_10))
    with progress.step("企业 enterprises", total) as advance:
        for index, start in enumerate(range(0, total, CHUNK_SIZE)):
            size = min(CHUNK_SIZE, total - start)
            rng = _rng(seed, _STREAM_ENTERPRISES, index + 1)
            district = rng.choice(district_p.shape[0], size=size, p=district_p)
            industry = rng.choice(_INDUSTRY_P.shape[0], size=size, p=_INDUSTRY_P)
            word = _INDUSTRY_WORDS[
                _INDUSTRY_WORD_OFFSET[industry]
                + (rng.random(size) * _INDUSTRY_WORD_COUNT[industry]).astype(np.int64)
            ]
            trade = np.strings.add(
                _TRADE_CHARACTERS[rng.integers(0, _TRADE_CHARACTERS.shape[0], size)],
                _TRADE_CHARACTERS[rng.integers(0, _TRADE_CHARACTERS.shape[0], size)],
            )
            # Three common name patterns: 广州市天河区XX科技有限公司, 广州XX科技有限公司,
            # 广州市XX科技有限责任公司.
            pattern = rng.choice(3, size=size, p=[0.45, 0.35, 0.2])
            prefix = np.where(
                pattern == 0, places[district], np.where(pattern == 1, "广州", "广州市")
            )
            suffix = np.where(pattern == 2, "有限责任公司", "有限公司")
            names = np.strings.add(np.strings.add(prefix, trade), np.strings.add(word, suffix))

            year = rng.choice(_REGISTRATION_YEARS, size=size, p=_REGISTRATION_P)
            year_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
            registered = year_start + (rng.random(size) * 365).astype(np.int64)
            registered = np.minimum(registered, np.datetime64(REFERENCE_DATE.isoformat(), "D"))
            modern = year >= data.MA_PREFIX_FROM_YEAR
            bodies = _organisation_bodies(
                np.arange(start, start + size, dtype=np.int64), modern, offset
            )
            usccs = _uscc_strings(layout.district_digits[district], bodies)
            picks = order[np.arange(start, start + size) % len(representatives)]
            rows = list(
                zip(
                    usccs,
                    names.tolist(),
                    [representatives[i] for i in picks.tolist()],
                    layout.district_objects[district].tolist(),
                    _INDUSTRY_NAMES[industry].tolist(),
                    registered.astype("U10").tolist(),
                    strict=True,
                )
            )
            with store.begin() as conn:
                _insert(store, conn, identity_enterprise, ENTERPRISE_COLUMNS, rows)
            advance(size)


# -- writing ------------------------------------------------------------------------------


def _insert(
    store: Store,
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    """Insert prepared tuples (dates as ISO text) in the backend's fastest way."""
    if not rows:
        return
    if store.dialect == "sqlite":
        # Straight to the driver with ready-made tuples: no per-row dicts or bind
        # processing, which would cost more than generating the rows.
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)
        return
    # PostgreSQL: the store's COPY path; it parses the ISO dates itself.
    store.bulk_insert(conn, table, [dict(zip(columns, row, strict=True)) for row in rows])
