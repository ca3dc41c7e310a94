from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.geo.codes import (
    AreaLevel,
    ancestor_codes,
    area_level,
    build_code,
    is_valid_code,
    parent_code,
    parse_code,
)
from smartcity.kernel.identity.divisions import PROVINCE_CODES

provinces = st.sampled_from(sorted(PROVINCE_CODES))
two_digits = st.integers(1, 99).map(lambda n: f"{n:02d}")
districts = st.builds(lambda p, c, d: p + c + d, provinces, two_digits, two_digits)
serials = st.integers(1, 999)


@st.composite
def codes(draw: st.DrawFn) -> str:
    division = draw(districts)
    depth = draw(st.integers(0, 3))
    parts = [draw(serials) for _ in range(depth)]
    return build_code(division, *parts)


def test_a_grid_code_names_every_level() -> None:
    parsed = parse_code("440106001002003")
    assert parsed.level is AreaLevel.GRID
    assert (parsed.division, parsed.street_serial, parsed.community_serial) == ("440106", 1, 2)
    assert parsed.grid_serial == 3
    assert ancestor_codes("440106001002003") == [
        "440106001002",
        "440106001",
        "440106",
        "440100",
    ]


def test_city_and_district_codes() -> None:
    assert parse_code("440100").level is AreaLevel.CITY
    assert parse_code("440106").level is AreaLevel.DISTRICT
    assert parent_code("440106") == "440100"
    assert parent_code("440100") is None


@given(districts, st.lists(serials, max_size=3))
def test_build_then_parse_round_trips(division: str, parts: list[int]) -> None:
    code = build_code(division, *parts)
    parsed = parse_code(code)
    assert parsed.division == division
    found = [parsed.street_serial, parsed.community_serial, parsed.grid_serial][: len(parts)]
    assert found == parts
    assert parsed.code == code
    assert len(code) == 6 + 3 * len(parts)
    assert parsed.level.code_length == len(code)


@given(codes())
def test_parent_is_a_prefix_one_level_up(code: str) -> None:
    parsed = parse_code(code)
    parent = parsed.parent_code
    assert parent is not None
    assert parse_code(parent).level is parsed.level.parent
    assert code.startswith(parent[:4])


@given(codes(), st.data())
def test_a_non_digit_anywhere_is_named_by_position(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(code) - 1))
    character = data.draw(st.characters(exclude_categories=["Nd"]).filter(lambda c: c != ""))
    mutated = code[:position] + character + code[position + 1 :]
    with pytest.raises(InvalidInput) as error:
        parse_code(mutated)
    assert error.value.details["part"] == "digits"
    assert error.value.details["position"] == position + 1


@given(codes(), st.data())
def test_a_dropped_or_added_digit_is_a_length_error(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(code) - 1))
    for mutated in (
        code[:position] + code[position + 1 :],
        code[:position] + "7" + code[position:],
    ):
        with pytest.raises(InvalidInput) as error:
            parse_code(mutated)
        assert error.value.details["part"] == "length"


@given(codes(), st.data())
def test_a_zeroed_serial_is_named(code: str, data: st.DataObject) -> None:
    slot = data.draw(st.integers(0, (len(code) - 6) // 3 - 1)) if len(code) > 6 else None
    if slot is None:
        return
    start = 6 + 3 * slot
    mutated = code[:start] + "000" + code[start + 3 :]
    with pytest.raises(InvalidInput) as error:
        parse_code(mutated)
    assert error.value.details["part"] == ("street serial", "community serial", "grid serial")[slot]


@given(codes(), st.sampled_from(["00", "99", "80", "19"]))
def test_an_unknown_province_is_named(code: str, province: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_code(province + code[2:])
    assert error.value.details["part"] == "province"


def test_a_street_of_the_city_itself_is_refused() -> None:
    with pytest.raises(InvalidInput, match="county part") as error:
        parse_code("440100001")
    assert error.value.details["part"] == "county"
    with pytest.raises(InvalidInput) as error:
        parse_code("440006")
    assert error.value.details["part"] == "prefecture"


@pytest.mark.parametrize(
    ("arguments", "part"),
    [
        (("440106", 0), "street serial"),
        (("440106", 1, 1000), "community serial"),
        (("440106", None, 1), "community serial"),
        (("4401", 1), "division"),
        (("440100", 1), "county"),
    ],
)
def test_build_names_the_bad_part(arguments: tuple[object, ...], part: str) -> None:
    with pytest.raises(InvalidInput) as error:
        build_code(*arguments)  # type: ignore[arg-type]
    assert error.value.details["part"] == part


def test_helpers() -> None:
    assert is_valid_code("440106001")
    assert not is_valid_code("44010600")
    assert area_level("street") is AreaLevel.STREET
    assert AreaLevel.CITY.parent is None and AreaLevel.GRID.child is None
    with pytest.raises(InvalidInput, match="unknown area level"):
        area_level("block")
