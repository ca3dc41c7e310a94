"""GB 11643-1999 citizen IDs: hand-checked examples and properties."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity import Gender, make_citizen_id, parse_citizen_id
from smartcity.kernel.identity.citizen_id import check_character, check_characters
from smartcity.kernel.identity.divisions import PROVINCE_CODES

TODAY = date(2026, 11, 21)

# Constructed numbers (no real person's), check characters computed by hand.
EXAMPLES = [
    ("440106199005171236", "440106", date(1990, 5, 17), "123", Gender.MALE, "6"),
    ("440106200101010024", "440106", date(2001, 1, 1), "002", Gender.FEMALE, "4"),
    ("110108198503120046", "110108", date(1985, 3, 12), "004", Gender.FEMALE, "6"),
    ("650102193211300314", "650102", date(1932, 11, 30), "031", Gender.MALE, "4"),
    ("44011319781107008X", "440113", date(1978, 11, 7), "008", Gender.FEMALE, "X"),
]


@pytest.mark.parametrize(("text", "division", "born", "sequence", "gender", "check"), EXAMPLES)
def test_examples_parse(
    text: str, division: str, born: date, sequence: str, gender: Gender, check: str
) -> None:
    parsed = parse_citizen_id(text, today=TODAY)
    assert parsed.division_code == division
    assert parsed.birth_date == born
    assert parsed.sequence == sequence
    assert parsed.gender is gender
    assert parsed.check == check
    assert parsed.text == text
    assert make_citizen_id(division, born, sequence) == parsed


def test_lowercase_x_is_accepted_and_normalised() -> None:
    assert parse_citizen_id("44011319781107008x", today=TODAY).text == "44011319781107008X"


@pytest.mark.parametrize(
    ("text", "part", "words"),
    [
        ("44010619900517123", "length", "18 characters"),
        ("4401061990051712366", "length", "18 characters"),
        ("44010619900517A236", "characters", "17 digits"),
        ("44010619900517123Y", "characters", "digit or X"),
        ("990106199005171236", "division code", "province"),
        ("720106199005171236", "division code", "province"),
        ("440106199002301236", "birth date", "calendar"),
        ("440106189912311236", "birth date", "before 1900"),
        ("440106202712011236", "birth date", "future"),
        ("440106199005171237", "check character", "expected '6', got '7'"),
    ],
)
def test_each_failing_part_is_named(text: str, part: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_citizen_id(text, today=TODAY)
    assert caught.value.details["part"] == part
    assert words in caught.value.reason


def test_future_is_relative_to_today() -> None:
    text = "44010620261121123" + check_character("44010620261121123")
    assert parse_citizen_id(text, today=TODAY).birth_date == TODAY
    with pytest.raises(InvalidInput, match="future"):
        parse_citizen_id(text, today=date(2026, 11, 20))


def test_make_refuses_bad_parts() -> None:
    with pytest.raises(InvalidInput, match="province"):
        make_citizen_id("000000", date(1990, 1, 1), 1)
    with pytest.raises(InvalidInput, match="sequence"):
        make_citizen_id("440106", date(1990, 1, 1), 1000)
    with pytest.raises(InvalidInput, match="1900"):
        make_citizen_id("440106", date(1899, 12, 31), 1)


divisions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text("0123456789", min_size=4, max_size=4),
)
valid_ids = st.builds(
    lambda division, born, sequence: make_citizen_id(division, born, sequence).text,
    divisions,
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)


@given(divisions, st.dates(min_value=date(1900, 1, 1), max_value=TODAY), st.integers(0, 999))
def test_generated_ids_round_trip(division: str, born: date, sequence: int) -> None:
    made = make_citizen_id(division, born, sequence)
    parsed = parse_citizen_id(made.text, today=TODAY)
    assert parsed == made
    assert parsed.gender is (Gender.MALE if sequence % 2 else Gender.FEMALE)


@given(valid_ids, st.integers(0, 17), st.sampled_from("0123456789XAZ"))
def test_every_single_substitution_is_rejected(text: str, position: int, new: str) -> None:
    if text[position] == new:
        return
    changed = text[:position] + new + text[position + 1 :]
    with pytest.raises(InvalidInput):
        parse_citizen_id(changed, today=TODAY)


@given(valid_ids, st.integers(0, 16))
def test_every_adjacent_transposition_is_detected(text: str, position: int) -> None:
    if text[position] == text[position + 1]:
        return
    swapped = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    with pytest.raises(InvalidInput):
        parse_citizen_id(swapped, today=TODAY)


def test_vectorised_check_characters_match() -> None:
    import numpy as np

    bodies = [text[:17] for text, *_ in EXAMPLES]
    digits = np.array([[int(c) for c in body] for body in bodies], dtype=np.uint8)
    assert bytes(check_characters(digits)).decode() == "".join(t[17] for t, *_ in EXAMPLES)
