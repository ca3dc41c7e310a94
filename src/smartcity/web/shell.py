"""Render pages in the shared layout, in the reader's language.

One Jinja environment per locale, each with its translations installed: rendering then
needs no per-request global state, so concurrent requests in different languages never
see each other's strings. Templates come from ``web/templates`` (the layout) and from
each installed app's ``ui/templates``, addressed as ``<app name>/<file>``.
"""

from __future__ import annotations

import importlib
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from fastapi import FastAPI, Request
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    select_autoescape,
)
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from smartcity.kernel.app import App
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.platform import Platform
from smartcity.web.i18n import (
    HTML_LANGUAGE,
    LOCALE_COOKIE,
    LOCALE_QUERY,
    N_,
    SUPPORTED_LOCALES,
    LocaleChoice,
    choose_locale,
    load_translations,
)

WEB_DIRECTORY = Path(__file__).parent
TEMPLATES_DIRECTORY = WEB_DIRECTORY / "templates"
STATIC_DIRECTORY = WEB_DIRECTORY / "static"
VENDOR_DIRECTORY = STATIC_DIRECTORY / "vendor"
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600

# Browsers refuse ES modules served without a JavaScript type; not every system's
# mimetypes table knows ``.mjs``.
mimetypes.add_type("text/javascript", ".mjs")

# Pages only talk to this server: the policy makes the browser refuse anything else,
# so a stray CDN link or tile URL fails loudly in development instead of leaking out.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # ECharts and MapLibre set inline styles on the elements they create.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        # MapLibre starts its worker from a module next to it, possibly via a blob URL.
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)


@dataclass(frozen=True)
class NavigationItem:
    """A page in the main navigation, shown when its app is installed."""

    app: str
    path: str
    label: str  # Chinese source string, translated where shown


# In the order shown; the first installed one is also the home page.
NAVIGATION: tuple[NavigationItem, ...] = (
    NavigationItem(app="operations", path="/ops", label=N_("运营中心")),
    NavigationItem(app="portal", path="/me", label=N_("我的主页")),
    NavigationItem(app="targeting", path="/targeting", label=N_("信息找人")),
)


def app_package_directory(app: App) -> Path | None:
    """The directory of an app's package, found through its routes module."""
    if app.routes_module is None:
        return None
    package_name = app.routes_module.rpartition(".")[0]
    module = importlib.import_module(package_name)
    if module.__file__ is None:
        return None
    return Path(module.__file__).parent


def app_ui_directories(apps: Iterable[App], kind: str) -> dict[str, Path]:
    """``{app name: <package>/ui/<kind>}`` for every app that has that directory."""
    found: dict[str, Path] = {}
    for app in apps:
        package = app_package_directory(app)
        if package is not None and (package / "ui" / kind).is_dir():
            found[app.name] = package / "ui" / kind
    return found


def missing_vendor_files(names: Sequence[str]) -> list[str]:
    """Which of the vendored browser files ``names`` are absent (``make assets`` not run)."""
    return [name for name in names if not (VENDOR_DIRECTORY / name).is_file()]


class WebShell:
    """Renders templates inside the shared layout for the locale each request asks for."""

    def __init__(
        self,
        *,
        default_locale: str,
        installed_app_names: Iterable[str],
        app_template_directories: Mapping[str, Path],
        translations_directory: Path | None = None,
    ) -> None:
        installed = set(installed_app_names)
        self.default_locale = default_locale
        self.navigation = tuple(item for item in NAVIGATION if item.app in installed)
        loader = ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES_DIRECTORY),
                PrefixLoader(
                    {
                        name: FileSystemLoader(directory)
                        for name, directory in app_template_directories.items()
                    }
                ),
            ]
        )
        self.translations = (
            load_translations(translations_directory)
            if translations_directory is not None
            else load_translations()
        )
        self.environments = {
            locale: self._environment(loader, self.translations[locale])
            for locale in SUPPORTED_LOCALES
        }

    @staticmethod
    def _environment(loader: BaseLoader, translations: NullTranslations) -> Environment:
        environment = Environment(
            loader=loader,
            autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # newstyle: _("...%(name)s", name=value) formats and autoescapes the arguments.
        # The i18n extension adds this method at run time, so the type stubs lack it.
        environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        return environment

    @property
    def home_path(self) -> str:
        """Where ``/`` leads: the first page of the navigation, else the API docs."""
        return self.navigation[0].path if self.navigation else "/docs"

    def locale_choice(self, request: Request) -> LocaleChoice:
        """The locale for ``request`` (query, cookie, Accept-Language, default)."""
        return choose_locale(
            request.query_params,
            request.cookies,
            request.headers.get("accept-language"),
            self.default_locale,
        )

    def gettext(self, locale: str, message: str) -> str:
        """``message`` translated into ``locale`` (for strings built outside templates)."""
        return self.translations[locale].gettext(message)

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        vendor_files: Sequence[str] = (),
    ) -> HTMLResponse:
        """Render ``template`` for ``request``; ``vendor_files`` are checked to exist."""
        choice = self.locale_choice(request)
        locale = choice.locale
        switch = {
            option: str(request.url.include_query_params(**{LOCALE_QUERY: option})).removeprefix(
                f"{request.url.scheme}://{request.url.netloc}"
            )
            for option in SUPPORTED_LOCALES
        }
        page_context: dict[str, Any] = {
            "request": request,
            "locale": locale,
            "html_lang": HTML_LANGUAGE[locale],
            "navigation": self.navigation,
            "current_path": request.url.path,
            "language_links": switch,
            "vendor_missing": missing_vendor_files(vendor_files),
        }
        page_context.update(context or {})
        body = self.environments[locale].get_template(template).render(page_context)
        response = HTMLResponse(body, status_code=status_code)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Language"] = HTML_LANGUAGE[locale]
        # The same URL answers in either language, so caches must key on what decides it.
        response.headers["Vary"] = "Cookie, Accept-Language"
        if choice.remember:
            response.set_cookie(
                LOCALE_COOKIE,
                locale,
                max_age=LOCALE_COOKIE_SECONDS,
                path="/",
                samesite="lax",
                httponly=True,
            )
        return response


def get_shell(request: Request) -> WebShell:
    """The web shell of the application serving ``request`` (a FastAPI dependency)."""
    shell = getattr(request.app.state, "web_shell", None)
    if not isinstance(shell, WebShell):
        raise ConfigurationError("the web shell is not installed on this application")
    return shell


def install_web_shell(application: FastAPI, platform: Platform) -> WebShell:
    """Serve static files and set up page rendering for ``platform``'s apps.

    Each app's ``ui/static`` is served at ``/static/apps/<name>/``; those mounts come
    before ``/static`` because a mount matches every path under its prefix.
    """
    shell = WebShell(
        default_locale=platform.settings.default_locale,
        installed_app_names=[app.name for app in platform.apps],
        app_template_directories=app_ui_directories(platform.apps, "templates"),
    )
    application.state.web_shell = shell
    for name, directory in app_ui_directories(platform.apps, "static").items():
        application.mount(
            f"/static/apps/{name}", StaticFiles(directory=directory), name=f"static-{name}"
        )
    application.mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static")

    async def home(request: Request) -> Response:
        # Keep the query so that ``/?lang=en`` still switches the language.
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(shell.home_path + query, status_code=307)

    application.add_api_route("/", home, include_in_schema=False)
    return shell
