"""Unified social credit codes (GB 32100-2015, 统一社会信用代码).

Eighteen characters from a 31-character alphabet (digits and capitals without I, O, Z, S,
V): the registration authority (1), the organisation category (1), the six-digit division
code of the registering office, the nine-character organisation code (GB 11714, whose
last character is its own MOD 11 check) and a final MOD 31 check character over the first
seventeen.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity.divisions import division_problem

LENGTH = 18
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {c: i for i, c in enumerate(ALPHABET)}

# Final check: weight of position i is 3^i mod 31.
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
# GB 11714 organisation code check.
ORGANISATION_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)

# Codes registered by central bodies carry the national division code.
NATIONAL_DIVISION = "100000"

# Registration authorities (登记管理部门) and the organisation categories each may issue
# (机构类别), GB 32100-2015 appendix A.
AUTHORITIES: MappingProxyType[str, str] = MappingProxyType(
    {
        "1": "机构编制",
        "2": "外交",
        "3": "司法行政",
        "4": "文化",
        "5": "民政",
        "6": "旅游",
        "7": "宗教",
        "8": "工会",
        "9": "工商",
        "A": "中央军委改革和编制办公室",
        "N": "农业",
        "Y": "其他",
    }
)
CATEGORIES: MappingProxyType[str, str] = MappingProxyType(
    {
        "1": "1239",
        "2": "19",
        "3": "123459",
        "4": "19",
        "5": "1239",
        "6": "129",
        "7": "129",
        "8": "19",
        "9": "123",
        "A": "19",
        "N": "1239",
        "Y": "1",
    }
)


@dataclass(frozen=True)
class Uscc:
    """A parsed, valid unified social credit code."""

    authority: str
    category: str
    division_code: str
    organisation_code: str
    check: str

    def __str__(self) -> str:
        return (
            f"{self.authority}{self.category}{self.division_code}"
            f"{self.organisation_code}{self.check}"
        )

    @property
    def text(self) -> str:
        """The eighteen-character code."""
        return str(self)


def _organisation_value(character: str) -> int:
    # GB 11714 values letters A..Z as 10..35 (it predates the USCC alphabet).
    return int(character) if character.isdigit() else ord(character) - ord("A") + 10


def organisation_check_character(body: str) -> str:
    """The GB 11714 check character for an eight-character organisation code body."""
    if len(body) != 8 or any(c not in _VALUES for c in body):
        raise InvalidInput(
            f"organisation code body {body!r} must be 8 characters of the USCC alphabet",
            part="organisation code",
        )
    total = sum(_organisation_value(c) * w for c, w in zip(body, ORGANISATION_WEIGHTS, strict=True))
    value = 11 - total % 11
    if value == 10:
        return "X"
    if value == 11:
        return "0"
    return str(value)


def check_character(first17: str) -> str:
    """The MOD 31 check character over the first seventeen characters of a USCC."""
    if len(first17) != 17 or any(c not in _VALUES for c in first17):
        raise InvalidInput(
            f"USCC check needs 17 characters of the USCC alphabet, got {first17!r}",
            part="characters",
        )
    total = sum(_VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def _division(code: str) -> None:
    if code == NATIONAL_DIVISION:
        return
    problem = division_problem(code)
    if problem is not None:
        raise InvalidInput(problem, part="division code")


def _authority_and_category(authority: str, category: str) -> None:
    if authority not in AUTHORITIES:
        known = ", ".join(AUTHORITIES)
        raise InvalidInput(
            f"registration authority code {authority!r} is unknown (known: {known})",
            part="registration authority",
        )
    if category not in CATEGORIES[authority]:
        allowed = ", ".join(CATEGORIES[authority])
        raise InvalidInput(
            f"organisation category {category!r} is not issued by authority {authority!r} "
            f"({AUTHORITIES[authority]}; allowed: {allowed})",
            part="organisation category",
        )


def parse_uscc(text: str) -> Uscc:
    """Parse and validate a unified social credit code; lowercase letters are normalised.

    Raises :class:`InvalidInput` whose reason (and ``part`` detail) names the failing
    part: length, characters, registration authority, organisation category, division
    code, organisation code (its GB 11714 check) or check character.
    """
    if not isinstance(text, str):
        raise InvalidInput("USCC must be text", part="characters")
    code = text.strip().upper()
    if len(code) != LENGTH:
        raise InvalidInput(f"USCC must be {LENGTH} characters long, got {len(code)}", part="length")
    bad = sorted({c for c in code if c not in _VALUES})
    if bad:
        raise InvalidInput(
            f"USCC characters {''.join(bad)!r} are outside the alphabet "
            "(digits and capitals except I, O, S, V, Z)",
            part="characters",
        )
    # The final check covers everything, so test it first: a typo anywhere is reported
    # as a check failure rather than as whichever field it happened to land in.
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidInput(
            f"USCC check character is wrong: expected {expected!r}, got {code[17]!r}",
            part="check character",
            expected=expected,
            got=code[17],
        )
    _authority_and_category(code[0], code[1])
    _division(code[2:8])
    organisation = code[8:17]
    expected_organisation = organisation_check_character(organisation[:8])
    if organisation[8] != expected_organisation:
        raise InvalidInput(
            f"organisation code {organisation!r} check character is wrong: "
            f"expected {expected_organisation!r}, got {organisation[8]!r}",
            part="organisation code",
            expected=expected_organisation,
            got=organisation[8],
        )
    return Uscc(
        authority=code[0],
        category=code[1],
        division_code=code[2:8],
        organisation_code=organisation,
        check=code[17],
    )


def is_valid_uscc(text: str) -> bool:
    """Whether ``text`` parses as a unified social credit code."""
    try:
        parse_uscc(text)
    except InvalidInput:
        return False
    return True


def make_uscc(authority: str, category: str, division: str, organisation_body: str) -> Uscc:
    """Build a valid USCC from its parts; both check characters are computed.

    ``organisation_body`` is the first eight characters of the organisation code.
    """
    _authority_and_category(authority, category)
    _division(division)
    organisation = organisation_body + organisation_check_character(organisation_body)
    first17 = f"{authority}{category}{division}{organisation}"
    return Uscc(
        authority=authority,
        category=category,
        division_code=division,
        organisation_code=organisation,
        check=check_character(first17),
    )
