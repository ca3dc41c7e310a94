"""Domain errors.

Validation anywhere in the platform raises one of these; the API layer turns each into an
RFC 7807 problem document with the status and reason given here. Nothing user-caused
should ever surface as a 500.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error caused by what a caller sent or asked for."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    # The problem ``type`` URI where a standard defines one (NGSI-LD); else the platform's.
    type_uri: ClassVar[str | None] = None

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class InvalidInput(DomainError):
    """The input is malformed or fails a check (checksum, range, format)."""

    status = 422
    code = "invalid-input"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PermissionDenied(DomainError):
    status = 403
    code = "permission-denied"
    title = "Permission denied"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class TooManyRequests(DomainError):
    """The caller acts faster than a rate limit allows; ``retry_after_seconds`` says when."""

    status = 429
    code = "too-many-requests"
    title = "Too many requests"


class ConfigurationError(Exception):
    """The platform is set up wrongly (operator error, not a caller's)."""
