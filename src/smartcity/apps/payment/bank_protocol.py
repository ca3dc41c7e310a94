"""The wire protocol between the platform and a bank: HMAC-signed JSON both ways.

Every message (the platform creating a payment order, the bank calling back with its
outcome) is a JSON body sent with two headers: ``X-Bank-Timestamp`` (seconds since the
epoch) and ``X-Bank-Signature: v1=<hex>``, the HMAC-SHA256 under the shared secret of
``<timestamp>.<body>``. A message whose signature does not verify is refused; a replayed
one verifies but changes nothing, because every message names an order whose state
moves forward only once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from smartcity.kernel.errors import Unauthenticated

TIMESTAMP_HEADER = "X-Bank-Timestamp"
SIGNATURE_HEADER = "X-Bank-Signature"
SCHEME = "v1="
SECRET_NAME = "bank_secret"  # noqa: S105 - the name of a secret, not one


class ForgedMessage(Unauthenticated):
    """A bank message whose signature is missing or wrong."""

    code = "forged-bank-message"
    title = "Bank message refused"


def signature_of(secret: bytes, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def signed_headers(secret: bytes, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers that go with ``body``."""
    stamp = str(timestamp)
    return {
        "content-type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature_of(secret, stamp, body),
    }


def verify_message(secret: bytes, headers: Mapping[str, str], body: bytes) -> None:
    """Raise :class:`ForgedMessage` unless ``body`` carries a valid signature."""
    stamp = headers.get(TIMESTAMP_HEADER.lower()) or headers.get(TIMESTAMP_HEADER)
    given = headers.get(SIGNATURE_HEADER.lower()) or headers.get(SIGNATURE_HEADER)
    if not stamp or not given:
        raise ForgedMessage(f"the message carries no {SIGNATURE_HEADER} and {TIMESTAMP_HEADER}")
    if not stamp.isdigit() or len(stamp) > 12:
        raise ForgedMessage(f"{TIMESTAMP_HEADER} must be seconds since the epoch")
    expected = signature_of(secret, stamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), given.strip().encode("ascii", "replace")):
        raise ForgedMessage("the message's signature does not verify")
