"""The SQL the engine compiles selects exactly the persons a plain reading of the rule does."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.apps.targeting.matching import (
    VACCINATION_MONTHS,
    count_matching,
    months_before,
    select_matching,
)
from smartcity.apps.targeting.rules import (
    AgeRule,
    AllRule,
    AnyRule,
    AreaEventRule,
    AreaRule,
    BillDueRule,
    ChildAgeRule,
    EnterpriseIndustryRule,
    GenderRule,
    InterestsRule,
    NotRule,
    OccupationRule,
    Rule,
    VaccinationDueRule,
    load_rule,
    parse_rule,
    rule_json,
)
from smartcity.kernel.identity import parse_citizen_id

from .conftest import PEOPLE, TODAY, WATER_STAFF, Person, TargetingWorld

# Bills of the fixture: (person, biller, due date, unpaid)
BILLS = (
    ("driver", "electricity", date(2026, 11, 25), True),
    ("elder", "water", date(2026, 12, 20), True),
    ("parent", "electricity", date(2026, 11, 23), False),
)
OUTAGE_AREA, OUTAGE_DAY = "440106001", date(2026, 11, 24)


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def birth(person: Person) -> date:
    return parse_citizen_id(person.national_id, today=TODAY).birth_date


def gender(person: Person) -> str:
    return parse_citizen_id(person.national_id, today=TODAY).gender.value


def holds(rule: Rule, person: Person, on: date) -> bool:
    """The reference reading of a rule, in plain Python over the fixture's people."""
    household = [p for p in PEOPLE if p.household == person.household]
    match rule:
        case AllRule():
            return all(holds(part, person, on) for part in rule.rules)
        case AnyRule():
            return any(holds(part, person, on) for part in rule.rules)
        case NotRule():
            return not holds(rule.rule, person, on)
        case OccupationRule():
            return person.occupation in rule.values
        case InterestsRule():
            declared = (person.interests or "").split(",") if person.interests else []
            return any(code in declared for code in rule.any_of)
        case AgeRule():
            return rule.min <= age_on(birth(person), on) <= rule.max
        case GenderRule():
            return gender(person) == rule.gender
        case AreaRule():
            return any(person.community.startswith(code) for code in rule.codes)
        case ChildAgeRule():
            return any(
                rule.min <= age_on(birth(other), on) <= rule.max
                for other in household
                if other is not person
            )
        case BillDueRule():
            return any(
                key == person.key
                and unpaid
                and (rule.overdue or on <= due)
                and due <= on + timedelta(days=rule.within_days)
                and (not rule.billers or biller in rule.billers)
                for key, biller, due, unpaid in BILLS
            )
        case AreaEventRule():
            return (
                rule.event == "water_outage"
                and person.community.startswith(OUTAGE_AREA)
                and on <= OUTAGE_DAY <= on + timedelta(days=rule.within_days)
            )
        case VaccinationDueRule():
            last = on + timedelta(days=rule.within_days)
            return any(
                months_before(on, months) <= birth(other) <= months_before(last, months)
                for other in household
                for months in VACCINATION_MONTHS
            )
        case EnterpriseIndustryRule():
            return person.key == "father" and "制造业" in rule.industries
    raise AssertionError(rule)


leaves = st.one_of(
    st.builds(
        lambda v: {"kind": "occupation", "values": v},
        st.lists(
            st.sampled_from(["teacher", "nurse", "driver", "retired", "engineer", "chef"]),
            min_size=1,
            max_size=3,
        ),
    ),
    st.builds(
        lambda v: {"kind": "interests", "any_of": v},
        st.lists(
            st.sampled_from(["sports", "music", "reading", "sportswear", "spor"]),
            min_size=1,
            max_size=2,
        ),
    ),
    st.builds(
        lambda a, b: {"kind": "age", "min": min(a, b), "max": max(a, b)},
        st.integers(0, 90),
        st.integers(0, 90),
    ),
    st.builds(lambda g: {"kind": "gender", "gender": g}, st.sampled_from(["M", "F"])),
    st.builds(
        lambda c: {"kind": "area", "codes": c},
        st.lists(
            st.sampled_from(
                ["440106", "440104", "440106001", "440106002001", "440104003004", "440103"]
            ),
            min_size=1,
            max_size=2,
        ),
    ),
    st.builds(
        lambda a, b: {"kind": "child_age", "min": min(a, b), "max": max(a, b)},
        st.integers(0, 80),
        st.integers(0, 80),
    ),
    st.builds(
        lambda d, b, o: {"kind": "bill_due", "within_days": d, "billers": b, "overdue": o},
        st.integers(0, 40),
        st.lists(st.sampled_from(["electricity", "water"]), max_size=1),
        st.booleans(),
    ),
    st.builds(
        lambda e, d: {"kind": "area_event", "event": e, "within_days": d},
        st.sampled_from(["water_outage", "power_outage"]),
        st.integers(0, 5),
    ),
    st.builds(lambda d: {"kind": "vaccination_due", "within_days": d}, st.integers(0, 120)),
    st.builds(
        lambda i: {"kind": "enterprise_industry", "industries": i},
        st.lists(st.sampled_from(["制造业", "软件"]), min_size=1, max_size=2),
    ),
)
rules = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda r: {"kind": "all", "rules": r}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda r: {"kind": "any", "rules": r}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda r: {"kind": "not", "rule": r}, inner),
    ),
    max_leaves=6,
)
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=rules, on=days)
def test_sql_matches_the_reference_reading(
    world_with_outage: TargetingWorld, value: dict[str, Any], on: date
) -> None:
    rule = parse_rule(value)
    expected = {world_with_outage.ids[p.key] for p in PEOPLE if holds(rule, p, on)}
    with world_with_outage.platform.store.connect() as conn:
        found = set(conn.execute(select_matching(conn, rule, on)).scalars())
        assert count_matching(conn, rule, on) == len(expected)
    assert found == expected


@given(value=rules)
def test_a_rule_survives_storage(value: dict[str, Any]) -> None:
    rule = parse_rule(value)
    assert load_rule(rule_json(rule)) == rule


def test_months_before_clamps_to_the_end_of_month() -> None:
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


@pytest.fixture
def world_with_outage(world: TargetingWorld) -> TargetingWorld:
    answer = world.client.post(
        "/api/targeting/events",
        json={
            "kind": "water_outage",
            "area_code": OUTAGE_AREA,
            "starts_on": OUTAGE_DAY.isoformat(),
            "ends_on": OUTAGE_DAY.isoformat(),
            "description": "管网维修",
        },
        headers=world.auth(WATER_STAFF),
    )
    assert answer.status_code == 201, answer.text
    return world
