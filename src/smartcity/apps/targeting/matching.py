"""The matching engine: an audience rule compiled to one SQL condition over the registry.

Every leaf becomes a sargable predicate on ``identity_citizen`` (date ranges on the birth
date instead of computed ages, code ranges instead of prefix functions) or a correlated
EXISTS on a small indexed table, so the same statement runs on SQLite and PostgreSQL and
the database does the work where the rows are. Dates are the notice's date in the city's
time zone.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from smartcity.apps.payment.api import unpaid_bill_due
from smartcity.apps.portal.api import interest_condition
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
)
from smartcity.apps.targeting.tables import targeting_event
from smartcity.kernel.identity.tables import identity_citizen, identity_enterprise

CITY_ZONE = ZoneInfo("Asia/Shanghai")
# Ages (in months) of the national immunisation schedule after the birth doses.
VACCINATION_MONTHS = (1, 2, 3, 4, 5, 6, 8, 9, 18, 24, 36, 48, 72)

_child = identity_citizen.alias("child")


def city_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the city."""
    return moment.astimezone(CITY_ZONE).date()


def months_before(day: date, months: int) -> date:
    """``day`` moved back ``months`` calendar months (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _born_aged(column: ColumnElement[date], on: date, low: int, high: int) -> ColumnElement[bool]:
    """``column`` (a birth date) makes someone aged low..high whole years on ``on``."""
    latest = months_before(on, 12 * low)  # born on or before: at least ``low`` years old
    earliest = months_before(on, 12 * (high + 1)) + timedelta(days=1)
    return column.between(earliest, latest)


def _area(codes: list[str]) -> ColumnElement[bool]:
    community = identity_citizen.c.community_code
    parts: list[ColumnElement[bool]] = []
    for code in codes:
        if len(code) == 12:
            parts.append(community == code)
        elif len(code) == 6:
            parts.append(identity_citizen.c.district_code == code)
        else:  # a street: the range of its communities' codes keeps the index usable
            parts.append(community.between(code + "000", code + "999"))
    return or_(*parts)


def _households_with(born: ColumnElement[bool]) -> ColumnElement[bool]:
    """The current citizen's household has a member whose birth date passes ``born``.

    An uncorrelated ``IN`` (one pass over the registry builds the set of households, then
    each row probes it) instead of a correlated EXISTS per citizen: about 3x faster on a
    million rows, on both backends.
    """
    return identity_citizen.c.household_id.in_(
        select(_child.c.household_id).where(_child.c.household_id.is_not(None), born)
    )


def _vaccination(on: date, within_days: int) -> ColumnElement[bool]:
    last = on + timedelta(days=within_days)
    windows = [
        _child.c.birth_date.between(months_before(on, months), months_before(last, months))
        for months in VACCINATION_MONTHS
    ]
    return _households_with(or_(*windows))


def _child_aged(low: int, high: int, on: date) -> ColumnElement[bool]:
    """Someone else in the current citizen's household is aged ``low``..``high``."""
    citizen = identity_citizen.c
    in_range = _born_aged(_child.c.birth_date, on, low, high)
    other = exists(
        select(literal(1))
        .select_from(_child)
        .where(_child.c.household_id == citizen.household_id, _child.c.id != citizen.id, in_range)
    )
    # Only a citizen who is in the range themselves needs the per-row check that the
    # member found is someone else; that is the few children, not the whole registry.
    return and_(
        _households_with(in_range),
        or_(not_(_born_aged(citizen.birth_date, on, low, high)), other),
    )


def _area_event(rule: AreaEventRule, on: date) -> ColumnElement[bool]:
    community = identity_citizen.c.community_code
    event = targeting_event.c
    covers = or_(
        event.area_code == community,
        event.area_code == identity_citizen.c.district_code,
        and_(func.length(event.area_code) == 9, event.area_code == func.substr(community, 1, 9)),
    )
    return exists(
        select(literal(1))
        .select_from(targeting_event)
        .where(
            event.kind == rule.event,
            event.starts_on <= on + timedelta(days=rule.within_days),
            event.ends_on >= on,
            covers,
        )
    )


def condition_of(rule: Rule, on: date) -> ColumnElement[bool]:
    """The SQL condition on ``identity_citizen`` that ``rule`` stands for on ``on``."""
    citizen = identity_citizen.c
    match rule:
        case AllRule():
            return and_(true(), *(condition_of(part, on) for part in rule.rules))
        case AnyRule():
            return or_(false(), *(condition_of(part, on) for part in rule.rules))
        case NotRule():
            return not_(condition_of(rule.rule, on))
        case OccupationRule():
            # Not NULL first: otherwise "not occupation X" would skip those without one.
            return and_(citizen.occupation.is_not(None), citizen.occupation.in_(rule.values))
        case InterestsRule():
            return interest_condition(citizen.id, rule.any_of)
        case AgeRule():
            return _born_aged(citizen.birth_date, on, rule.min, rule.max)
        case GenderRule():
            return citizen.gender == rule.gender
        case AreaRule():
            return _area(rule.codes)
        case ChildAgeRule():
            return _child_aged(rule.min, rule.max, on)
        case BillDueRule():
            first = date(1900, 1, 1) if rule.overdue else on
            last = on + timedelta(days=rule.within_days)
            return unpaid_bill_due(citizen.national_id, first, last, rule.billers)
        case AreaEventRule():
            return _area_event(rule, on)
        case VaccinationDueRule():
            return _vaccination(on, rule.within_days)
        case EnterpriseIndustryRule():
            return exists(
                select(literal(1))
                .select_from(identity_enterprise)
                .where(
                    identity_enterprise.c.legal_representative == citizen.national_id,
                    identity_enterprise.c.industry.in_(rule.industries),
                )
            )
    raise TypeError(f"unknown rule {rule!r}")  # pragma: no cover - the union is closed


def count_matching(conn: Connection, rule: Rule, on: date) -> int:
    """How many registry persons ``rule`` matches on ``on``."""
    condition = condition_of(rule, on)
    return int(
        conn.execute(
            select(func.count()).select_from(identity_citizen).where(condition)
        ).scalar_one()
    )


def select_matching(
    conn: Connection, rule: Rule, on: date, after: int = 0, limit: int | None = None
) -> Select[int]:
    """The ids of matching persons above ``after``, ascending, at most ``limit`` (if given)."""
    condition = condition_of(rule, on)
    statement = select(identity_citizen.c.id).where(condition)
    if limit is None:
        return statement
    return (
        statement.where(identity_citizen.c.id > after).order_by(identity_citizen.c.id).limit(limit)
    )


def matches_person(conn: Connection, rule: Rule, on: date, person_id: int) -> bool:
    """True when ``rule`` matches the person ``person_id`` on ``on``."""
    condition = condition_of(rule, on)
    found = conn.execute(
        select(identity_citizen.c.id).where(identity_citizen.c.id == person_id, condition)
    ).first()
    return found is not None
