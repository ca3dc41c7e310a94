"""The audience rule language: small, typed JSON that says who a notice concerns.

A rule is one object with a ``kind``. Leaves test one fact of a person; ``all``, ``any``
and ``not`` combine them::

    {"kind": "all", "rules": [
        {"kind": "age", "min": 18},
        {"kind": "child_age", "min": 0, "max": 6},
        {"kind": "area", "codes": ["440106"]}
    ]}

Ages are whole years on the notice's date. Area codes are the geo hierarchy's prefixes:
a district (6 digits), a street (9) or a community (12) covers everything inside it.
Life events look at other registries on the notice's date: an unpaid bill falling due,
an outage announced for the person's area, a child of the household reaching an age of
the national immunisation schedule, an enterprise the person represents in a sector.
pydantic validates the shape; :func:`parse_rule` turns its errors into one InvalidInput.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from smartcity.kernel.errors import InvalidInput

MAX_DEPTH = 8
MAX_LEAVES = 64
MAX_DAYS = 366
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
AreaCode = Annotated[str, Field(pattern=r"^(\d{6}|\d{9}|\d{12})$")]
Age = Annotated[int, Field(ge=0, le=150)]
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]
Text = Annotated[str, Field(min_length=1, max_length=32)]
EVENT_KINDS = ("water_outage", "power_outage", "gas_outage", "road_works")


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AgeRange(_Rule):
    min: Age = 0
    max: Age = 150

    @model_validator(mode="after")
    def _ordered(self) -> _AgeRange:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class OccupationRule(_Rule):
    """The person's occupation is one of ``values`` (registry occupation codes)."""

    kind: Literal["occupation"]
    values: Annotated[list[Text], Field(min_length=1, max_length=50)]


class InterestsRule(_Rule):
    """The person declared any of ``any_of`` on the citizen page profile."""

    kind: Literal["interests"]
    any_of: Annotated[list[Code], Field(min_length=1, max_length=50)]


class AgeRule(_AgeRange):
    """The person's age in whole years on the notice's date lies in [min, max]."""

    kind: Literal["age"]


class GenderRule(_Rule):
    kind: Literal["gender"]
    gender: Literal["M", "F"]


class AreaRule(_Rule):
    """The person lives in one of the areas (district, street or community codes)."""

    kind: Literal["area"]
    codes: Annotated[list[AreaCode], Field(min_length=1, max_length=200)]


class ChildAgeRule(_AgeRange):
    """Someone else in the person's household is aged in [min, max]."""

    kind: Literal["child_age"]


class BillDueRule(_Rule):
    """The person has an unpaid bill due within ``within_days`` (of these billers, if given);
    with ``overdue``, bills already past their due date count too."""

    kind: Literal["bill_due"]
    within_days: Days = 7
    overdue: bool = False
    billers: Annotated[list[Code], Field(max_length=20)] = []


class AreaEventRule(_Rule):
    """An event of ``event`` kind is under way in, or announced within ``within_days`` for,
    the person's community (events name a district, street or community)."""

    kind: Literal["area_event"]
    event: Literal["water_outage", "power_outage", "gas_outage", "road_works"]
    within_days: Days = 0


class VaccinationDueRule(_Rule):
    """A child of the household reaches an age of the immunisation schedule within
    ``within_days``."""

    kind: Literal["vaccination_due"]
    within_days: Days = 30


class EnterpriseIndustryRule(_Rule):
    """The person is the legal representative of an enterprise in one of ``industries``.

    The registry has no employer of a person; the enterprises a person represents are
    the employer fact it does hold (see docs/apps/targeting.md).
    """

    kind: Literal["enterprise_industry"]
    industries: Annotated[list[Text], Field(min_length=1, max_length=50)]


class AllRule(_Rule):
    kind: Literal["all"]
    rules: Annotated[list[Rule], Field(min_length=1, max_length=MAX_LEAVES)]


class AnyRule(_Rule):
    kind: Literal["any"]
    rules: Annotated[list[Rule], Field(min_length=1, max_length=MAX_LEAVES)]


class NotRule(_Rule):
    kind: Literal["not"]
    rule: Rule


Rule = Annotated[
    AllRule
    | AnyRule
    | NotRule
    | OccupationRule
    | InterestsRule
    | AgeRule
    | GenderRule
    | AreaRule
    | ChildAgeRule
    | BillDueRule
    | AreaEventRule
    | VaccinationDueRule
    | EnterpriseIndustryRule,
    Field(discriminator="kind"),
]
AllRule.model_rebuild()
AnyRule.model_rebuild()
NotRule.model_rebuild()

_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


def _measure(rule: Rule, depth: int = 1) -> tuple[int, int]:
    """(deepest nesting, number of leaves) of ``rule``."""
    if isinstance(rule, AllRule | AnyRule):
        parts = [_measure(part, depth + 1) for part in rule.rules]
        return max(d for d, _ in parts), sum(n for _, n in parts)
    if isinstance(rule, NotRule):
        return _measure(rule.rule, depth + 1)
    return depth, 1


def check_rule(rule: Rule) -> Rule:
    """``rule`` if it stays within the depth and size limits, else InvalidInput."""
    depth, leaves = _measure(rule)
    if depth > MAX_DEPTH:
        raise InvalidInput(f"an audience rule nests at most {MAX_DEPTH} deep", part="audience")
    if leaves > MAX_LEAVES:
        raise InvalidInput(f"an audience rule has at most {MAX_LEAVES} conditions", part="audience")
    return rule


def parse_rule(value: Any) -> Rule:
    """Validate a decoded JSON rule; every problem becomes one InvalidInput (422)."""
    try:
        rule = _ADAPTER.validate_python(value)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in item['loc']) or 'rule'}: {item['msg']}"
            for item in error.errors(include_url=False)[:10]
        ]
        raise InvalidInput(
            "the audience rule is not valid: " + "; ".join(problems), part="audience"
        ) from None
    return check_rule(rule)


def rule_json(rule: Rule) -> str:
    """The canonical JSON text of ``rule`` (stored with the notice)."""
    return orjson.dumps(_ADAPTER.dump_python(rule, mode="json")).decode()


def load_rule(text: str) -> Rule:
    """A stored rule back (it was valid when stored)."""
    return _ADAPTER.validate_json(text)


def dump_rule(rule: Rule) -> Any:
    """``rule`` as plain JSON data."""
    return _ADAPTER.dump_python(rule, mode="json")
