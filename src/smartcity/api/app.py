"""Build the ASGI application for a platform.

``create_app(platform)`` is the one place the HTTP surface is assembled: probes, docs,
the web shell, every installed app's routes, the error handlers and the body limit.
``build()`` is the factory ``smartcity serve`` hands to uvicorn
(``uvicorn smartcity.api.app:build --factory``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from fastapi import APIRouter, FastAPI

from smartcity.api import docs, health, identity, ngsi_ld, notify, pki
from smartcity.api.collector import restore_collector_on_stop, tune_collector_on_start
from smartcity.api.limits import BodySizeLimit
from smartcity.api.ngsi_ld.fast_patch import PatchFastPath
from smartcity.api.problems import install_problem_handlers
from smartcity.gateways.iot import routes as iot_routes
from smartcity.kernel.app import App
from smartcity.kernel.config import Settings
from smartcity.kernel.context.subscriptions import start_notifier
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.notify.runtime import start_notify
from smartcity.kernel.platform import Platform
from smartcity.web.shell import install_web_shell

log = logging.getLogger(__name__)

TITLE = "智慧城市平台 Smart City Platform"
DESCRIPTION = (
    "一库、一台与各项应用的接口。错误均以 RFC 7807 problem+json 返回。\n\n"
    "The API of the city information library, the public support platform and the "
    "applications. Every error is an RFC 7807 `application/problem+json` document."
)


def platform_version() -> str:
    """The installed package version (``0.0.0`` when run from an uninstalled tree)."""
    try:
        return package_version("smartcity")
    except PackageNotFoundError:
        return "0.0.0"


def app_router(app: App) -> APIRouter | None:
    """The ``router`` of an app's ``routes_module``, if it declares one."""
    if app.routes_module is None:
        return None
    module = importlib.import_module(app.routes_module)
    router = getattr(module, "router", None)
    if not isinstance(router, APIRouter):
        raise ConfigurationError(
            f"app {app.name!r}: {app.routes_module} has no APIRouter named 'router'"
        )
    return router


def app_body_limits(platform: Platform) -> dict[str, int]:
    """Paths whose apps allow bodies larger than the platform's limit (uploads).

    An app's routes module may define ``body_limits(platform) -> {path: bytes}``; the
    body-size middleware enforces that limit on those exact paths instead of the platform's.
    """
    limits: dict[str, int] = {}
    for installed in platform.apps:
        if installed.routes_module is None:
            continue
        declare = getattr(importlib.import_module(installed.routes_module), "body_limits", None)
        if declare is not None:
            limits.update(declare(platform))
    return limits


def create_app(platform: Platform) -> FastAPI:
    """The FastAPI application serving ``platform``.

    Its lifespan starts the platform's background work (bus delivery) and stops it, which
    also releases the store, when the server shuts down.
    """

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        await platform.start()
        notifier = await start_notifier(platform)
        application.state.notifier = notifier
        application.state.notify = await start_notify(platform)
        try:
            yield
        finally:
            await application.state.notify.stop()
            # The notifier flushes delivery status to the store, so it stops first.
            await notifier.stop(grace=notifier.settings.shutdown_grace)
            await platform.stop()

    application = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=platform_version(),
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served by smartcity.api.docs without a CDN
        redoc_url=None,
        # FastAPI's built-in OpenTelemetry looks up the providers on every request
        # (~12 µs, a twentieth of a card tap); the platform configures none.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    application.state.platform = platform
    install_problem_handlers(application)
    application.include_router(health.router)
    application.include_router(docs.router)
    application.include_router(ngsi_ld.router)
    application.include_router(identity.router)
    application.include_router(iot_routes.router)
    application.include_router(notify.router)
    application.include_router(pki.router)
    for installed in platform.apps:
        router = app_router(installed)
        if router is not None:
            application.include_router(router)
        # An app may answer its hottest route before routing (pure ASGI, see payment).
        if installed.routes_module is not None:
            fast_path = getattr(importlib.import_module(installed.routes_module), "fast_path", None)
            if fast_path is not None:
                application.add_middleware(fast_path, platform=platform)
    install_web_shell(application, platform)
    application.add_middleware(PatchFastPath)  # inside the body limit
    application.add_middleware(
        BodySizeLimit,
        max_body_bytes=platform.settings.max_body_bytes,
        path_limits=app_body_limits(platform),
    )
    return application


def configure_logging(level: str) -> None:
    """Send the platform's log records to stderr at ``level`` unless logging is set up."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("smartcity").setLevel(level.upper())


def build() -> FastAPI:
    """Factory for uvicorn: settings from the environment, the installed apps."""
    from smartcity.apps import installed_apps

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    platform = Platform.open(settings, apps=installed_apps())
    # Last start hook: the started server's objects leave the collector's sight (and
    # come back when it stops: the first stop hook to run).
    platform.on_start(tune_collector_on_start)
    platform.on_stop(restore_collector_on_stop)
    log.info("serving %s with apps: %s", platform.store.url, [a.name for a in platform.apps])
    return create_app(platform)
