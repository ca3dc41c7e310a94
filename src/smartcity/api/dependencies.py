"""FastAPI dependencies giving routes typed access to the running platform.

The dependencies are ``async def`` on purpose: FastAPI runs a plain-function dependency
in its threadpool, and a thread hop per request for one attribute lookup costs more than
the lookup. Code that holds a request outside dependency injection calls
:func:`platform_of`.
"""

from __future__ import annotations

from fastapi import Request

from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store


def platform_of(request: Request) -> Platform:
    """The platform this application serves (set by ``create_app``)."""
    platform = getattr(request.app.state, "platform", None)
    if not isinstance(platform, Platform):
        raise ConfigurationError("the application was not built by smartcity.api.create_app")
    return platform


async def get_platform(request: Request) -> Platform:
    """Dependency: the platform this application serves."""
    return platform_of(request)


async def get_store(request: Request) -> Store:
    """Dependency: the platform's store."""
    return platform_of(request).store
