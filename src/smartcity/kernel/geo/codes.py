"""Area codes of the city hierarchy: build, parse, validate.

=========  ======  ============================================================
level      digits  structure
=========  ======  ============================================================
city       6       division code (GB/T 2260) of a prefecture city: ``440100``
district   6       division code of a county-level district: ``440106``
street     9       district code + street/town serial: ``440106001``
community  12      street code + community/village serial: ``440106001002``
grid       15      community code + unit-grid serial (GB/T 30428): ``440106001002003``
=========  ======  ============================================================

Serials run 001–999. Following the statistical division code convention (国家统计局
统计用区划代码), generated streets (街道) use 001–099 and towns (镇) 100–199;
communities (社区) use 001–199 and villages (村) 200–399. The parser accepts any
non-zero serial, because real registries contain other ranges too.

Codes carry no check digit, so a typo that turns one valid code into another valid code
cannot be detected here; everything else is, and the error names the failing part.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity.divisions import PROVINCE_CODES


class AreaLevel(StrEnum):
    """The levels of the city hierarchy, from the whole city down to the unit grid."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"

    @property
    def depth(self) -> int:
        """0 for the city, 4 for the unit grid."""
        return _LEVEL_ORDER.index(self)

    @property
    def code_length(self) -> int:
        """How many digits a code of this level has."""
        return CODE_LENGTHS[self]

    @property
    def parent(self) -> AreaLevel | None:
        """The level above, or ``None`` for the city."""
        return _LEVEL_ORDER[self.depth - 1] if self.depth > 0 else None

    @property
    def child(self) -> AreaLevel | None:
        """The level below, or ``None`` for the unit grid."""
        return _LEVEL_ORDER[self.depth + 1] if self.depth < len(_LEVEL_ORDER) - 1 else None


_LEVEL_ORDER: tuple[AreaLevel, ...] = tuple(AreaLevel)

CODE_LENGTHS: dict[AreaLevel, int] = {
    AreaLevel.CITY: 6,
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.GRID: 15,
}

SERIAL_MIN = 1
SERIAL_MAX = 999


def area_level(value: str) -> AreaLevel:
    """The :class:`AreaLevel` named ``value``; :class:`InvalidInput` for unknown names."""
    try:
        return AreaLevel(value)
    except ValueError:
        known = ", ".join(level.value for level in AreaLevel)
        raise InvalidInput(
            f"unknown area level {value!r}; levels are {known}", part="level"
        ) from None


@dataclass(frozen=True)
class AreaCode:
    """A parsed area code. Build one with :func:`build_code` or :func:`parse_code`."""

    division: str
    street_serial: int | None = None
    community_serial: int | None = None
    grid_serial: int | None = None

    @property
    def level(self) -> AreaLevel:
        """The level the code names."""
        if self.grid_serial is not None:
            return AreaLevel.GRID
        if self.community_serial is not None:
            return AreaLevel.COMMUNITY
        if self.street_serial is not None:
            return AreaLevel.STREET
        if self.division.endswith("00"):
            return AreaLevel.CITY
        return AreaLevel.DISTRICT

    @property
    def code(self) -> str:
        """The code as a string of 6, 9, 12 or 15 digits."""
        serials = (self.street_serial, self.community_serial, self.grid_serial)
        return self.division + "".join(f"{s:03d}" for s in serials if s is not None)

    @property
    def district_code(self) -> str | None:
        """The six-digit district code, or ``None`` for the city itself."""
        return None if self.level is AreaLevel.CITY else self.division

    @property
    def city_code(self) -> str:
        """The six-digit code of the prefecture city the area belongs to."""
        return self.division[:4] + "00"

    @property
    def parent_code(self) -> str | None:
        """The code of the enclosing area, or ``None`` for the city."""
        level = self.level
        if level is AreaLevel.CITY:
            return None
        if level is AreaLevel.DISTRICT:
            return self.city_code
        return self.code[: CODE_LENGTHS[level] - 3]

    def __str__(self) -> str:
        return self.code


def build_code(
    division: str,
    street: int | None = None,
    community: int | None = None,
    grid: int | None = None,
) -> str:
    """Compose a code from its parts; raises :class:`InvalidInput` naming a bad part.

    ``build_code("440106", 1, 2, 3) == "440106001002003"``.
    """
    _check_division(division, division, needs_district=street is not None)
    serials = (("street serial", street), ("community serial", community), ("grid serial", grid))
    seen_gap = False
    for name, serial in serials:
        if serial is None:
            seen_gap = True
            continue
        if seen_gap:
            raise InvalidInput(
                f"{name} given without the serials above it", part=name, division=division
            )
        if not SERIAL_MIN <= serial <= SERIAL_MAX:
            raise InvalidInput(
                f"{name} {serial} is out of range {SERIAL_MIN}–{SERIAL_MAX}", part=name
            )
    return AreaCode(division, street, community, grid).code


def parse_code(code: str) -> AreaCode:
    """Parse and validate an area code; raises :class:`InvalidInput` naming the failing part."""
    if not isinstance(code, str):
        raise InvalidInput(f"area code must be a string, got {type(code).__name__}", part="type")
    for position, character in enumerate(code, start=1):
        if not ("0" <= character <= "9"):
            raise InvalidInput(
                f"area code {code!r}: character {position} ({character!r}) is not a digit",
                part="digits",
                position=position,
                code=code,
            )
    if len(code) not in (6, 9, 12, 15):
        raise InvalidInput(
            f"area code {code!r} has {len(code)} digits; a city or district code has 6, "
            "a street 9, a community 12 and a unit grid 15",
            part="length",
            code=code,
        )
    division = code[:6]
    _check_division(division, code, needs_district=len(code) > 6)
    serials: list[int | None] = [None, None, None]
    for slot, (name, start) in enumerate(
        (("street serial", 6), ("community serial", 9), ("grid serial", 12))
    ):
        if len(code) <= start:
            break
        text = code[start : start + 3]
        if text == "000":
            raise InvalidInput(
                f"area code {code!r}: {name} '000' is not allowed; serials run 001–999",
                part=name,
                code=code,
            )
        serials[slot] = int(text)
    return AreaCode(division, serials[0], serials[1], serials[2])


def is_valid_code(code: str) -> bool:
    """Whether :func:`parse_code` accepts ``code``."""
    try:
        parse_code(code)
    except InvalidInput:
        return False
    return True


def parent_code(code: str) -> str | None:
    """The code of the area enclosing ``code`` (``None`` for a city)."""
    return parse_code(code).parent_code


def ancestor_codes(code: str) -> list[str]:
    """Codes of every enclosing area, nearest first, ending with the city."""
    ancestors: list[str] = []
    current = parse_code(code).parent_code
    while current is not None:
        ancestors.append(current)
        current = parse_code(current).parent_code
    return ancestors


def _check_division(division: str, code: str, *, needs_district: bool) -> None:
    if len(division) != 6 or not division.isascii() or not division.isdigit():
        raise InvalidInput(
            f"division code {division!r} must be 6 digits", part="division", code=code
        )
    province, prefecture, county = division[:2], division[2:4], division[4:6]
    if province not in PROVINCE_CODES:
        raise InvalidInput(
            f"area code {code!r}: province part {province!r} is not a mainland "
            "province-level code (GB/T 2260)",
            part="province",
            code=code,
        )
    if prefecture == "00":
        raise InvalidInput(
            f"area code {code!r}: prefecture part '00' names a province, not a city",
            part="prefecture",
            code=code,
        )
    if needs_district and county == "00":
        raise InvalidInput(
            f"area code {code!r}: county part '00' names the city itself; streets, "
            "communities and unit grids belong to a district",
            part="county",
            code=code,
        )
