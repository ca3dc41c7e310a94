from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from smartcity.kernel.identity.passwords import (
    WeakPassword,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from tests.kernel.identity.people import FAST_HASHER


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "at least 8"),
        ("x" * 129, "at most 128"),
        ("        ", "only spaces"),
        ("my-GZ-GAJ-0002-pw", "sign-in name"),
    ],
)
def test_policy_refuses_weak_passwords_with_a_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason) as refused:
        check_password_policy(password, username="gz-gaj-0002")
    assert refused.value.status == 422


def test_policy_accepts_a_long_enough_password() -> None:
    check_password_policy("correct horse 7", username="GZ-GAJ-0002")


def test_hash_verifies_and_is_rehashed_when_parameters_change() -> None:
    encoded = hash_password(FAST_HASHER, "correct horse 7")
    assert verify_password(FAST_HASHER, encoded, "correct horse 7")
    assert not verify_password(FAST_HASHER, encoded, "wrong horse 7")
    assert not verify_password(FAST_HASHER, "not a hash", "correct horse 7")
    assert not needs_rehash(FAST_HASHER, encoded)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert needs_rehash(stronger, encoded)
    assert verify_password(stronger, encoded, "correct horse 7")
