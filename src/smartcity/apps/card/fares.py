"""Fare rules: a flat bus fare, metro fares by distance bands, a daily transit cap.

The figures follow Guangzhou's published rules (2026): buses charge a flat 2 yuan; the
metro charges 2 yuan up to 4 km, one yuan more for each further 4 km up to 12 km, each
further 6 km up to 24 km, then each further 8 km. Transit fares (bus and metro) of one
city day stop at the daily cap; shop payments are never capped.
"""

from __future__ import annotations

from enum import StrEnum

from smartcity.kernel.errors import InvalidInput

BUS_FARE_FEN = 200
METRO_BASE_FEN = 200
DAILY_CAP_FEN = 1500
"""Transit fares a card pays in one city day at most (15 yuan)."""

# (up to metres, each further metres) bands after the first 4 km.
_METRO_BANDS = ((12_000, 4_000), (24_000, 6_000), (10**9, 8_000))
_METRO_BASE_METRES = 4_000


class TapKind(StrEnum):
    BUS = "bus"
    METRO = "metro"
    SHOP = "shop"

    @property
    def transit(self) -> bool:
        return self is not TapKind.SHOP


# Stations of metro line 3 (north-south) with their distance from 番禺广场 in metres;
# enough for distance fares in the demo city and its tests.
METRO_STATIONS: dict[str, int] = {
    "panyu-square": 0,
    "shiqiao": 2_600,
    "hanxi-changlong": 9_800,
    "dashi": 12_900,
    "xiajiao": 14_000,
    "kecun": 21_100,
    "canton-tower": 22_500,
    "zhujiang-new-town": 23_600,
    "tiyu-xilu": 25_100,
    "linhexi": 26_300,
    "guangzhou-east": 27_900,
    "yantang": 30_500,
    "baiyun-airport-south": 56_200,
}


def metro_fare_for_distance(metres: int) -> int:
    """The metro fare in fen for a ride of ``metres``."""
    if metres < 0:
        raise InvalidInput("a distance is not negative", part="distance_m")
    fare = METRO_BASE_FEN
    covered = _METRO_BASE_METRES
    for limit, step in _METRO_BANDS:
        if metres <= covered:
            break
        span = min(metres, limit) - covered
        fare += 100 * -(-span // step)
        covered = limit
    return fare


def station_distance(entry: str, exit_: str) -> int:
    """Metres between two stations of the catalogue."""
    try:
        return abs(METRO_STATIONS[exit_] - METRO_STATIONS[entry])
    except KeyError as missing:
        raise InvalidInput(f"unknown metro station {missing.args[0]!r}", part="station") from None


def capped(fare_fen: int, spent_today_fen: int) -> int:
    """What a transit fare costs once ``spent_today_fen`` counts toward the daily cap."""
    return max(0, min(fare_fen, DAILY_CAP_FEN - spent_today_fen))
