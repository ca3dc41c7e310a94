"""ASGI assembly and the HTTP toolkit apps' routes use.

``dependencies`` (typed access to the platform and store), ``responses`` (orjson JSON,
GeoJSON, problem documents) and ``problems`` (RFC 7807) are for every app's routes.
``app`` assembles one FastAPI application mounting the kernel's and every app's routes.

``create_app(platform)`` builds it for a platform the caller opened (tests, the CLI);
``smartcity.api.app:build`` is the factory uvicorn calls, opening the platform from the
environment with the installed apps.
"""

from smartcity.api.app import build, create_app

__all__ = ["build", "create_app"]
