"""FastAPI dependencies giving routes typed access to the running platform."""

from __future__ import annotations

from fastapi import Request

from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store


def get_platform(request: Request) -> Platform:
    """The platform this application serves (set by ``create_app``)."""
    platform = getattr(request.app.state, "platform", None)
    if not isinstance(platform, Platform):
        raise ConfigurationError("the application was not built by smartcity.api.create_app")
    return platform


def get_store(request: Request) -> Store:
    """The platform's store."""
    return get_platform(request).store
