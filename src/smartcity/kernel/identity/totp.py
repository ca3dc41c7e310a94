"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), and their secrets at rest.

Authenticator apps (FreeOTP, Google Authenticator, Microsoft Authenticator) read the
``otpauth://`` URI of :func:`provisioning_uri` and show a 6-digit code that changes every
30 seconds. The platform accepts the code of the current step and of one step either side
(clock drift), and never the same step twice for one account (replay).

Secrets are stored encrypted with AES-256-GCM under the platform's ``totp_key``
(:func:`smartcity.kernel.secrets.secret_bytes`), with the account id as associated data so
a ciphertext copied onto another account does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smartcity.kernel.errors import ConfigurationError

PERIOD_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA1
DRIFT_STEPS = 1
_NONCE_BYTES = 12


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """The HOTP value of ``counter`` under ``key`` (RFC 4226, dynamic truncation)."""
    digest = hmac.digest(key, struct.pack(">Q", counter), algorithm)
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def time_step(at: datetime | float) -> int:
    """The RFC 6238 time step (30-second period from the Unix epoch) of ``at``."""
    seconds = at.timestamp() if isinstance(at, datetime) else at
    return int(seconds // PERIOD_SECONDS)


def totp(key: bytes, at: datetime | float, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """The TOTP code valid at ``at``."""
    return hotp(key, time_step(at), digits=digits, algorithm=algorithm)


def match_totp(key: bytes, code: str, at: datetime, *, last_step: int | None = None) -> int | None:
    """The time step ``code`` is valid for (within the drift window), or None.

    Steps at or before ``last_step`` (the last one accepted for the account) never match,
    so a code seen over someone's shoulder cannot be used again.
    """
    cleaned = code.strip().replace(" ", "") if isinstance(code, str) else ""
    if len(cleaned) != DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        return None
    current = time_step(at)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(hotp(key, step), cleaned):
            return step
    return None


def new_totp_secret() -> bytes:
    """A fresh random TOTP secret (from the operating system's CSPRNG)."""
    return os.urandom(SECRET_BYTES)


def encode_base32(secret: bytes) -> str:
    """The secret as authenticator apps want it typed: base32 without padding."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def provisioning_uri(secret: bytes, *, account: str, issuer: str = "Smart City") -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans as a QR code."""
    label = quote(f"{issuer}:{account}")
    query = urlencode(
        {
            "secret": encode_base32(secret),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"


class TotpCipher:
    """Encrypts TOTP secrets at rest with AES-256-GCM."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ConfigurationError("the TOTP key needs at least 16 bytes")
        # Derived rather than used directly, so any key length of at least 16 bytes works
        # and this key is never the same bytes as another platform secret.
        self._aead = AESGCM(hashlib.sha256(b"smartcity totp secret\x00" + key).digest())

    def encrypt(self, secret: bytes, *, account_id: int) -> str:
        """Nonce and ciphertext of ``secret``, bound to ``account_id``, as text."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret, str(account_id).encode("ascii"))
        return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, text: str, *, account_id: int) -> bytes:
        """The secret :meth:`encrypt` sealed; ConfigurationError if the key does not fit."""
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
        try:
            return self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], str(account_id).encode("ascii")
            )
        except InvalidTag:
            raise ConfigurationError(
                "a stored TOTP secret does not decrypt: was SMARTCITY_TOTP_KEY changed?"
            ) from None
