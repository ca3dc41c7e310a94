"""Card numbers: 16 digits, the issuer prefix, a serial and a Luhn check digit.

The check digit (ISO/IEC 7812, the Luhn algorithm) catches every single-digit typo and
almost every swap of two neighbouring digits, so a gate or a clerk rejects a mistyped
number before asking the database. Serials are derived from the holder and how many
cards they had before (BLAKE2b), so issuing needs no shared counter and a replay of the
same issue names the same number.
"""

from __future__ import annotations

import hashlib

from smartcity.kernel.errors import InvalidInput

ISSUER_PREFIX = "8844"
"""The card issuer's prefix (Guangzhou citizen card centre)."""
NUMBER_LENGTH = 16
_SERIAL_DIGITS = NUMBER_LENGTH - len(ISSUER_PREFIX) - 1


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits``."""
    total = 0
    # From the right, every second digit of the payload (the first one next to the
    # check digit) is doubled.
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_number(number: str) -> bool:
    """True for a 16-digit card number of this issuer whose check digit is right."""
    return (
        len(number) == NUMBER_LENGTH
        and number.isascii()
        and number.isdigit()
        and number.startswith(ISSUER_PREFIX)
        and luhn_digit(number[:-1]) == number[-1]
    )


def check_number(number: str) -> str:
    """``number`` if valid, else InvalidInput (422)."""
    if not is_valid_number(number):
        raise InvalidInput("not a citizen card number (16 digits, check digit)", part="number")
    return number


def card_number_for(national_id: str, generation: int) -> str:
    """The number of a person's ``generation``-th card (0 for the first)."""
    digest = hashlib.blake2b(f"card\x1f{national_id}\x1f{generation}".encode(), digest_size=8)
    serial = int.from_bytes(digest.digest(), "big") % 10**_SERIAL_DIGITS
    payload = f"{ISSUER_PREFIX}{serial:0{_SERIAL_DIGITS}d}"
    return payload + luhn_digit(payload)
