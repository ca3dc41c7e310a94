"""Errors of the OAuth 2.0 token and revocation endpoints (RFC 6749 section 5.2).

They are domain errors, so anywhere else they become problem documents; the token
endpoint renders them in the RFC 6749 form ``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

from typing import ClassVar

from smartcity.kernel.errors import DomainError


class OAuthError(DomainError):
    """Base: ``error`` is the RFC 6749 error code."""

    status = 400
    error: ClassVar[str] = "invalid_request"
    code = "invalid-request"
    title = "Invalid token request"


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidGrant(OAuthError):
    """Wrong credentials, or an expired, revoked or reused refresh token."""

    error = "invalid_grant"
    code = "invalid-grant"
    title = "Invalid grant"


class AccountLocked(InvalidGrant):
    """Too many failed sign-ins; ``retry_at`` says when to try again."""

    code = "account-locked"
    title = "Account locked"


class InvalidClient(OAuthError):
    status = 401
    error = "invalid_client"
    code = "invalid-client"
    title = "Invalid client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"
    code = "unsupported-grant-type"
    title = "Unsupported grant type"


class InvalidScope(OAuthError):
    error = "invalid_scope"
    code = "invalid-scope"
    title = "Invalid scope"
