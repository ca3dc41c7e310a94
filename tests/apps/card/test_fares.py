"""Fare rules: flat bus fare, metro distance bands, the daily cap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.apps.card.fares import (
    DAILY_CAP_FEN,
    capped,
    metro_fare_for_distance,
    station_distance,
)
from smartcity.kernel.errors import InvalidInput


@pytest.mark.parametrize(
    ("metres", "fen"),
    [
        (0, 200),
        (4_000, 200),
        (4_001, 300),
        (8_000, 300),
        (12_000, 400),
        (18_000, 500),
        (24_000, 600),
        (32_000, 700),
        (56_200, 1100),
    ],
)
def test_metro_fare_bands(metres: int, fen: int) -> None:
    assert metro_fare_for_distance(metres) == fen


@given(a=st.integers(0, 200_000), b=st.integers(0, 200_000))
def test_a_longer_ride_never_costs_less(a: int, b: int) -> None:
    short, long = sorted((a, b))
    assert metro_fare_for_distance(short) <= metro_fare_for_distance(long)


def test_stations_give_the_distance() -> None:
    assert station_distance("tiyu-xilu", "panyu-square") == 25_100
    with pytest.raises(InvalidInput):
        station_distance("tiyu-xilu", "nowhere")


@given(fare=st.integers(0, 2_000), spent=st.integers(0, 3_000))
def test_the_cap_is_never_exceeded(fare: int, spent: int) -> None:
    charged = capped(fare, spent)
    assert 0 <= charged <= fare
    if spent <= DAILY_CAP_FEN:
        assert spent + charged <= DAILY_CAP_FEN
