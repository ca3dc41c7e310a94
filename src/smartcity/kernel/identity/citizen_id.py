"""Citizen identity numbers (GB 11643-1999, 公民身份号码).

Eighteen characters: a six-digit division code (where the number was first issued), the
birth date ``YYYYMMDD``, a three-digit sequence whose parity is the gender (odd = male),
and an ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``). MOD 11-2 detects every
single-character substitution and every transposition of adjacent characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity.divisions import division_problem

LENGTH = 18
EARLIEST_BIRTH = date(1900, 1, 1)

# Weight of position i (0-based, left to right) is 2^(17 - i) mod 11.
WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
# Check character for (weighted sum mod 11): the value that makes the full sum ≡ 1.
CHECK_CHARACTERS = "10X98765432"

_WEIGHTS_ARRAY = np.array(WEIGHTS, dtype=np.int64)
_CHECK_ASCII = np.frombuffer(CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)


class Gender(StrEnum):
    """Gender as a citizen ID encodes it (and as the registry stores it)."""

    MALE = "M"
    FEMALE = "F"


@dataclass(frozen=True)
class CitizenId:
    """A parsed, valid citizen ID."""

    division_code: str
    birth_date: date
    sequence: str
    gender: Gender
    check: str

    def __str__(self) -> str:
        return f"{self.division_code}{self.birth_date:%Y%m%d}{self.sequence}{self.check}"

    @property
    def text(self) -> str:
        """The eighteen-character number."""
        return str(self)


def check_character(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits of a citizen ID."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidInput(
            f"check character needs exactly 17 digits, got {first17!r}", part="characters"
        )
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def check_characters(digits: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Vectorised check characters: ``digits`` is an (n, 17) array of digit values 0-9;
    the result is the ASCII code of each row's check character."""
    if digits.ndim != 2 or digits.shape[1] != 17:
        raise InvalidInput(f"expected an (n, 17) digit array, got shape {digits.shape}")
    remainders = (digits.astype(np.int64) @ _WEIGHTS_ARRAY) % 11
    result: NDArray[np.uint8] = _CHECK_ASCII[remainders]
    return result


def _birth_date(text: str, today: date) -> date:
    digits = text[6:14]
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidInput(
            f"birth date {digits!r} is not a real calendar date", part="birth date"
        ) from None
    if born < EARLIEST_BIRTH:
        raise InvalidInput(f"birth date {born} is before 1900", part="birth date")
    if born > today:
        raise InvalidInput(
            f"birth date {born} is in the future (today is {today})", part="birth date"
        )
    return born


def parse_citizen_id(text: str, *, today: date | None = None) -> CitizenId:
    """Parse and validate a citizen ID; lowercase ``x`` is accepted and normalised.

    ``today`` bounds the birth date; it defaults to the system date, so callers that run
    on an injected clock should pass the clock's date. Raises :class:`InvalidInput` whose
    reason (and ``part`` detail) names the failing part: length, characters, division
    code, birth date or check character.
    """
    if not isinstance(text, str):
        raise InvalidInput("citizen ID must be text", part="characters")
    normalised = text.strip().upper()
    if len(normalised) != LENGTH:
        raise InvalidInput(
            f"citizen ID must be {LENGTH} characters long, got {len(normalised)}", part="length"
        )
    body, check = normalised[:17], normalised[17]
    if not body.isascii() or not body.isdigit() or check not in "0123456789X":
        raise InvalidInput(
            "citizen ID characters must be 17 digits followed by a digit or X", part="characters"
        )
    problem = division_problem(body[:6])
    if problem is not None:
        raise InvalidInput(problem, part="division code")
    born = _birth_date(body, today if today is not None else date.today())
    expected = check_character(body)
    if check != expected:
        raise InvalidInput(
            f"check character is wrong: expected {expected!r}, got {check!r}",
            part="check character",
            expected=expected,
            got=check,
        )
    sequence = body[14:17]
    gender = Gender.MALE if int(sequence[2]) % 2 == 1 else Gender.FEMALE
    return CitizenId(
        division_code=body[:6], birth_date=born, sequence=sequence, gender=gender, check=check
    )


def is_valid_citizen_id(text: str, *, today: date | None = None) -> bool:
    """Whether ``text`` parses as a citizen ID."""
    try:
        parse_citizen_id(text, today=today)
    except InvalidInput:
        return False
    return True


def make_citizen_id(division: str, birth: date, sequence: int | str) -> CitizenId:
    """Build a valid citizen ID from its parts (the check character is computed).

    ``sequence`` is 0-999 (or its three-digit text); its last digit's parity is the gender.
    """
    problem = division_problem(division)
    if problem is not None:
        raise InvalidInput(problem, part="division code")
    if birth < EARLIEST_BIRTH:
        raise InvalidInput(f"birth date {birth} is before 1900", part="birth date")
    if isinstance(sequence, str):
        if len(sequence) != 3 or not sequence.isascii() or not sequence.isdigit():
            raise InvalidInput(f"sequence {sequence!r} must be 3 digits", part="sequence")
        digits = sequence
    else:
        if not 0 <= sequence <= 999:
            raise InvalidInput(f"sequence {sequence} must be within 0..999", part="sequence")
        digits = f"{sequence:03d}"
    body = f"{division}{birth:%Y%m%d}{digits}"
    gender = Gender.MALE if int(digits[2]) % 2 == 1 else Gender.FEMALE
    return CitizenId(
        division_code=division,
        birth_date=birth,
        sequence=digits,
        gender=gender,
        check=check_character(body),
    )
