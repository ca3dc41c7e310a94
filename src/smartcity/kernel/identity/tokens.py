"""Short-lived signed access tokens.

An access token is a JSON Web Token (RFC 7519) signed with HMAC-SHA256 under the
platform's token key, so any worker checks it in microseconds without a database round
trip; the claims follow the OAuth 2.0 access-token profile (RFC 9068) where one applies.
Tokens live minutes (``ACCESS_TOKEN_SECONDS``); long sessions renew them with refresh
tokens, which are stored and revocable (see the accounts module).

Only the exact header this module writes is accepted: a token naming another algorithm
(``none``, RS256, ...) fails before any signature work, which closes the classic
algorithm-confusion holes of general JWT libraries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from smartcity.kernel.errors import Unauthenticated
from smartcity.kernel.identity.principal import AccountKind, Principal

ACCESS_TOKEN_SECONDS = 900
ISSUER = "smartcity"
_KINDS = {kind.value: kind for kind in AccountKind}


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


class InvalidToken(Unauthenticated):
    """The bearer token is malformed, forged or expired."""

    code = "invalid-token"
    title = "Invalid access token"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token and when it stops working."""

    token: str
    expires_at: int  # seconds since the epoch
    expires_in: int  # seconds from issue


def key_id_of(key: bytes) -> str:
    """The ``kid`` naming a token key (a digest prefix: it reveals nothing of the key)."""
    return hashlib.sha256(key).hexdigest()[:12]


def _header_of(key: bytes) -> bytes:
    return _b64encode(orjson.dumps({"alg": "HS256", "typ": "at+jwt", "kid": key_id_of(key)}))


class TokenSigner:
    """Issues access tokens under the current HMAC key and checks them under it or under
    a previous key (after a rotation, tokens already out stay good until they expire).

    The header names the key (``kid``); a token is checked only under the key its exact
    header names, one dictionary lookup, so a rotation adds nothing to the check.
    """

    def __init__(
        self,
        key: bytes,
        *,
        lifetime_seconds: int = ACCESS_TOKEN_SECONDS,
        previous_keys: Sequence[bytes] = (),
    ) -> None:
        if len(key) < 16 or any(len(k) < 16 for k in previous_keys):
            raise ValueError("the token key needs at least 16 bytes")
        self._key = key
        self.lifetime_seconds = lifetime_seconds
        self.key_id = key_id_of(key)
        self._header = _header_of(key)
        self._keys = {_header_of(k): k for k in previous_keys}
        self._keys[self._header] = key

    def issue(self, principal: Principal, now: datetime, *, audience: str = ISSUER) -> IssuedToken:
        """A new access token for ``principal``, valid from ``now`` for the lifetime."""
        issued_at = int(now.timestamp())
        expires_at = issued_at + self.lifetime_seconds
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": audience,
            "sub": str(principal.account_id),
            "kind": principal.kind.value,
            "subject": principal.subject,
            "iat": issued_at,
            "exp": expires_at,
            "jti": secrets.token_urlsafe(12),
            "amr": [principal.method],
        }
        if principal.department_code is not None:
            claims["department"] = principal.department_code
        if principal.roles:
            claims["roles"] = sorted(principal.roles)
        if principal.scopes:
            claims["scope"] = " ".join(sorted(principal.scopes))
        signing_input = self._header + b"." + _b64encode(orjson.dumps(claims))
        signature = hmac.digest(self._key, signing_input, "sha256")
        token = (signing_input + b"." + _b64encode(signature)).decode("ascii")
        return IssuedToken(token=token, expires_at=expires_at, expires_in=self.lifetime_seconds)

    def verify(self, token: str, now: datetime) -> Principal:
        """The principal ``token`` names; InvalidToken (401) with the reason otherwise."""
        raw = token.encode("ascii", "replace")
        header, _, rest = raw.partition(b".")
        payload, _, signature = rest.partition(b".")
        if not payload or not signature:
            raise InvalidToken("the access token is not a signed JWT (header.payload.signature)")
        key = self._keys.get(header)
        if key is None:
            raise InvalidToken("the access token was not issued by this platform")
        expected = hmac.digest(key, raw[: len(header) + 1 + len(payload)], "sha256")
        try:
            given = _b64decode(signature)
            claims = orjson.loads(_b64decode(payload))
        except (binascii.Error, ValueError):
            raise InvalidToken("the access token is malformed") from None
        if not hmac.compare_digest(given, expected):
            raise InvalidToken("the access token's signature does not match")
        if not isinstance(claims, dict):
            raise InvalidToken("the access token is malformed")
        if claims.get("exp", 0) <= now.timestamp():
            raise InvalidToken("the access token has expired; renew it with the refresh token")
        try:
            return Principal(
                account_id=int(claims["sub"]),
                kind=_KINDS[claims["kind"]],
                subject=claims["subject"],
                department_code=claims.get("department"),
                roles=frozenset(claims.get("roles", ())),
                scopes=frozenset(claims["scope"].split()) if "scope" in claims else frozenset(),
                method=claims["amr"][0],
            )
        except (KeyError, ValueError, TypeError, IndexError):
            raise InvalidToken("the access token lacks required claims") from None
