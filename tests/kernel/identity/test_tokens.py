import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tokens import InvalidToken, TokenSigner

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
STAFF = Principal(
    account_id=42,
    kind=AccountKind.STAFF,
    subject="GZ-0001",
    department_code="440100-GA",
    roles=frozenset({"dispatcher", "officer"}),
    method="totp",
)


def test_token_round_trips_the_principal() -> None:
    signer = TokenSigner(b"k" * 32)
    issued = signer.issue(STAFF, NOW)
    assert issued.expires_in == 900
    assert signer.verify(issued.token, NOW + timedelta(seconds=899)) == STAFF


def test_expired_token_is_refused_with_a_reason() -> None:
    signer = TokenSigner(b"k" * 32)
    token = signer.issue(STAFF, NOW).token
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token, NOW + timedelta(seconds=900))


def test_token_of_another_key_is_refused() -> None:
    token = TokenSigner(b"a" * 32).issue(STAFF, NOW).token
    with pytest.raises(InvalidToken):
        TokenSigner(b"b" * 32).verify(token, NOW)


def test_forged_claims_fail_the_signature() -> None:
    signer = TokenSigner(b"k" * 32)
    header, payload, signature = signer.issue(STAFF, NOW).token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["administrator"]
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(f"{header}.{forged}.{signature}", NOW)


def test_alg_none_header_is_refused_before_signature_work() -> None:
    signer = TokenSigner(b"k" * 32)
    _, payload, _ = signer.issue(STAFF, NOW).token.split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="not issued by this platform"):
        signer.verify(f"{none_header}.{payload}.c2ln", NOW)


@given(st.text(max_size=200))
def test_any_garbage_is_a_401_never_a_crash(text: str) -> None:
    with pytest.raises(InvalidToken):
        TokenSigner(b"k" * 32).verify(text, NOW)
