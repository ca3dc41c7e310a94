"""Card numbers carry a Luhn check digit that catches typos."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smartcity.apps.card.numbers import (
    ISSUER_PREFIX,
    card_number_for,
    is_valid_number,
    luhn_digit,
)

DIGITS = st.text(alphabet="0123456789", min_size=11, max_size=11)


def test_a_known_luhn_number() -> None:
    # The textbook example of ISO/IEC 7812.
    assert luhn_digit("7992739871") == "3"


@given(serial=DIGITS)
def test_every_issued_number_is_valid(serial: str) -> None:
    payload = ISSUER_PREFIX + serial
    assert is_valid_number(payload + luhn_digit(payload))


@given(serial=DIGITS, position=st.integers(0, 15), delta=st.integers(1, 9))
def test_any_single_digit_typo_is_caught(serial: str, position: int, delta: int) -> None:
    payload = ISSUER_PREFIX + serial
    number = payload + luhn_digit(payload)
    wrong = str((int(number[position]) + delta) % 10)
    typo = number[:position] + wrong + number[position + 1 :]
    assert not is_valid_number(typo)


@given(serial=DIGITS, position=st.integers(4, 14))
def test_swapping_neighbours_is_caught_unless_09(serial: str, position: int) -> None:
    payload = ISSUER_PREFIX + serial
    number = payload + luhn_digit(payload)
    a, b = number[position], number[position + 1]
    swapped = number[:position] + b + a + number[position + 2 :]
    if a != b and {a, b} != {"0", "9"}:
        assert not is_valid_number(swapped)


@given(generation=st.integers(0, 1000))
def test_numbers_for_a_person_are_valid_and_distinct(generation: int) -> None:
    first = card_number_for("440106199001011234", generation)
    assert is_valid_number(first)
    assert first != card_number_for("440106199001011234", generation + 1)


def test_other_text_is_not_a_number() -> None:
    assert not is_valid_number("884401234567890")
    assert not is_valid_number("88440123456789ab")
    assert not is_valid_number("1234567812345670")
