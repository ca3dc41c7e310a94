"""GB 32100-2015 unified social credit codes: hand-checked examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity import make_uscc, parse_uscc
from smartcity.kernel.identity.divisions import PROVINCE_CODES
from smartcity.kernel.identity.uscc import ALPHABET, CATEGORIES, organisation_check_character

# Constructed codes, both check characters computed by hand. The first has organisation
# check 11 -> '0', the second 10 -> 'X'.
EXAMPLES = [
    ("91440106MA5D8K2L0M", "9", "1", "440106", "MA5D8K2L0", "M"),
    ("1244010045567890XC", "1", "2", "440100", "45567890X", "C"),
    ("51440104MJ0012AB4C", "5", "1", "440104", "MJ0012AB4", "C"),
    ("91440106000000000T", "9", "1", "440106", "000000000", "T"),
]


@pytest.mark.parametrize(
    ("text", "authority", "category", "division", "organisation", "check"), EXAMPLES
)
def test_examples_parse(
    text: str, authority: str, category: str, division: str, organisation: str, check: str
) -> None:
    parsed = parse_uscc(text)
    assert (parsed.authority, parsed.category, parsed.division_code) == (
        authority,
        category,
        division,
    )
    assert (parsed.organisation_code, parsed.check, parsed.text) == (organisation, check, text)
    assert make_uscc(authority, category, division, organisation[:8]) == parsed


def test_lowercase_is_normalised() -> None:
    assert parse_uscc("91440106ma5d8k2l0m").text == "91440106MA5D8K2L0M"


def test_national_division_is_accepted() -> None:
    made = make_uscc("1", "1", "100000", "00001312")
    assert parse_uscc(made.text).division_code == "100000"


def _with_checks(first16: str) -> str:
    """Recompute both check characters, so a test can reach the field checks behind them."""
    body = first16[8:16]
    first17 = first16 + organisation_check_character(body)
    from smartcity.kernel.identity.uscc import check_character

    return first17 + check_character(first17)


@pytest.mark.parametrize(
    ("text", "part", "words"),
    [
        ("91440106MA5D8K2L0", "length", "18 characters"),
        ("91440106MA5D8K2LOM", "characters", "'O'"),
        ("91440106MA5D8K2IOM", "characters", "'IO'"),
        ("91440106MA5D8K2L0N", "check character", "expected 'M', got 'N'"),
        (_with_checks("B1440106MA5D8K2L"), "registration authority", "'B'"),
        (_with_checks("94440106MA5D8K2L"), "organisation category", "'4'"),
        (_with_checks("91990106MA5D8K2L"), "division code", "province"),
    ],
)
def test_each_failing_part_is_named(text: str, part: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_uscc(text)
    assert caught.value.details["part"] == part
    assert words in caught.value.reason


def test_organisation_check_failure_is_named() -> None:
    from smartcity.kernel.identity.uscc import check_character

    first17 = "91440106MA5D8K2L1"  # organisation check should be '0'
    with pytest.raises(InvalidInput) as caught:
        parse_uscc(first17 + check_character(first17))
    assert caught.value.details["part"] == "organisation code"
    assert "expected '0', got '1'" in caught.value.reason


authorities = st.sampled_from(sorted(CATEGORIES)).flatmap(
    lambda authority: st.tuples(st.just(authority), st.sampled_from(CATEGORIES[authority]))
)
divisions = st.one_of(
    st.just("100000"),
    st.builds(
        lambda province, rest: province + rest,
        st.sampled_from(sorted(PROVINCE_CODES)),
        st.text("0123456789", min_size=4, max_size=4),
    ),
)
bodies = st.text(ALPHABET, min_size=8, max_size=8)
valid_codes = st.builds(
    lambda pair, division, body: make_uscc(pair[0], pair[1], division, body).text,
    authorities,
    divisions,
    bodies,
)


@given(authorities, divisions, bodies)
def test_generated_codes_round_trip(pair: tuple[str, str], division: str, body: str) -> None:
    made = make_uscc(pair[0], pair[1], division, body)
    assert parse_uscc(made.text) == made


@given(valid_codes, st.integers(0, 17), st.sampled_from(ALPHABET + "IOSVZ"))
def test_every_single_substitution_is_rejected(text: str, position: int, new: str) -> None:
    if text[position] == new:
        return
    changed = text[:position] + new + text[position + 1 :]
    with pytest.raises(InvalidInput):
        parse_uscc(changed)
