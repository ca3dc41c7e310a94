"""Passwords: the policy a new password must meet, and argon2id hashing.

Hashes are argon2id in the PHC string format (argon2-cffi's ``PasswordHasher``), which
carries its own parameters; when the platform's parameters change, a successful sign-in
re-hashes the password under the new ones (:func:`needs_rehash`).
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from smartcity.kernel.errors import InvalidInput

MIN_LENGTH = 8
# argon2 has no length limit, but hashing megabytes on every sign-in attempt would be a
# cheap way to burn the server's CPU.
MAX_LENGTH = 128

# RFC 9106 "low memory" profile: argon2id, t=3, m=64 MiB, p=4 (argon2-cffi's default).
DEFAULT_HASHER = PasswordHasher()


class WeakPassword(InvalidInput):
    """A new password fails the password policy."""

    code = "weak-password"
    title = "Password too weak"


def check_password_policy(password: str, *, username: str) -> None:
    """Refuse a new password that is too short, too long or the sign-in name itself."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_LENGTH} characters", part="password")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            f"the password may have at most {MAX_LENGTH} characters", part="password"
        )
    if password.strip() == "":
        raise WeakPassword("the password must not be only spaces", part="password")
    if username and username.lower() in password.lower():
        raise WeakPassword("the password must not contain the sign-in name", part="password")


def hash_password(hasher: PasswordHasher, password: str) -> str:
    """The argon2 hash of ``password`` (slow on purpose; never call it inside a transaction)."""
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, encoded: str, password: str) -> bool:
    """True when ``password`` matches the stored hash; False for a mismatch or a bad hash."""
    try:
        return hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hasher: PasswordHasher, encoded: str) -> bool:
    """True when ``encoded`` was made with other parameters than ``hasher`` uses now."""
    try:
        return hasher.check_needs_rehash(encoded)
    except InvalidHashError:
        return True


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("no account has this password")


def burn_password_check(hasher: PasswordHasher, password: str) -> None:
    """Spend the time a real check takes, so an unknown sign-in name answers no faster."""
    verify_password(hasher, _dummy_hash(hasher), password)
