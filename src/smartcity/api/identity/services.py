"""What the identity routes need beyond the platform: the password hasher and TOTP cipher."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from fastapi import Request

from smartcity.api.dependencies import platform_of
from smartcity.kernel.identity.passwords import DEFAULT_HASHER
from smartcity.kernel.identity.totp import TotpCipher
from smartcity.kernel.secrets import secret_bytes


@dataclass(frozen=True, slots=True)
class IdentityServices:
    """Created once per application (tests may install cheaper argon2 parameters)."""

    hasher: PasswordHasher
    cipher: TotpCipher


def identity_services(request: Request) -> IdentityServices:
    """The application's identity services, created on first use."""
    state = request.app.state
    services = getattr(state, "identity", None)
    if not isinstance(services, IdentityServices):
        platform = platform_of(request)
        key = secret_bytes(platform.settings.data_dir, "totp_key")
        services = IdentityServices(hasher=DEFAULT_HASHER, cipher=TotpCipher(key))
        state.identity = services
    return services
