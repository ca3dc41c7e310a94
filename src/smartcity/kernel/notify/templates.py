"""Message templates in zh_CN and en, shipped as TOML files in this package.

A template names its default category, a title, a body and optionally a link, each a
:class:`string.Template` with ``${name}`` parameters. ``string.Template`` only
substitutes; it cannot call or reach attributes, so a parameter value (which may come
from a citizen) can never run code. Parameters are plain text; money is formatted by
the caller with :func:`format_yuan` (integer fen in, ``"123.45"`` out).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

from smartcity.kernel.errors import ConfigurationError, InvalidInput
from smartcity.kernel.notify.categories import Category

LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
MAX_PARAM_LENGTH = 2000

ParamValue = str | int


@dataclass(frozen=True, slots=True)
class Rendered:
    """A template filled in for one locale."""

    template: str
    locale: str
    category: Category
    title: str
    body: str
    link: str | None


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """One template in one locale."""

    name: str
    locale: str
    category: Category
    title: Template
    body: Template
    link: Template | None

    @property
    def parameters(self) -> frozenset[str]:
        """Every ``${name}`` the template uses."""
        names: set[str] = set()
        for part in (self.title, self.body, self.link):
            if part is not None:
                names.update(part.get_identifiers())
        return frozenset(names)

    def render(self, params: Mapping[str, ParamValue]) -> Rendered:
        """Fill in ``params``; a missing one is InvalidInput naming every missing name."""
        missing = sorted(self.parameters - params.keys())
        if missing:
            raise InvalidInput(
                f"template {self.name!r} needs parameters: {', '.join(missing)}",
                part="params",
                missing=missing,
            )
        values = {key: _text(key, value) for key, value in params.items()}
        link = None if self.link is None else self.link.substitute(values) or None
        return Rendered(
            template=self.name,
            locale=self.locale,
            category=self.category,
            title=self.title.substitute(values),
            body=self.body.substitute(values),
            link=link,
        )


def _text(key: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(f"parameter {key!r} must be text or an integer", part="params")
    text = str(value)
    if "\x00" in text:  # PostgreSQL text cannot hold NUL; refuse it on every backend
        raise InvalidInput(f"parameter {key!r} contains a NUL character", part="params")
    if len(text) > MAX_PARAM_LENGTH:
        raise InvalidInput(
            f"parameter {key!r} is longer than {MAX_PARAM_LENGTH} characters", part="params"
        )
    return text


class TemplateCatalogue:
    """Every template in every locale."""

    def __init__(self, templates: Mapping[tuple[str, str], MessageTemplate]) -> None:
        self._templates = dict(templates)
        self._names = frozenset(name for name, _ in self._templates)

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def get(self, name: str, locale: str) -> MessageTemplate:
        """The template ``name`` in ``locale``; an unknown name is InvalidInput."""
        if name not in self._names:
            known = ", ".join(sorted(self._names))
            raise InvalidInput(f"unknown template {name!r} (known: {known})", part="template")
        if locale not in LOCALES:
            raise InvalidInput(
                f"unknown locale {locale!r} (known: {', '.join(LOCALES)})", part="locale"
            )
        return self._templates[(name, locale)]

    def render(self, name: str, locale: str, params: Mapping[str, ParamValue]) -> Rendered:
        """Render template ``name`` in ``locale`` with ``params``."""
        return self.get(name, locale).render(params)


def _load_locale(locale: str) -> dict[tuple[str, str], MessageTemplate]:
    source = resources.files("smartcity.kernel.notify").joinpath("templates", f"{locale}.toml")
    document = tomllib.loads(source.read_text(encoding="utf-8"))
    found: dict[tuple[str, str], MessageTemplate] = {}
    for name, entry in document.items():
        try:
            link = entry.get("link")
            found[(name, locale)] = MessageTemplate(
                name=name,
                locale=locale,
                category=Category(entry["category"]),
                title=Template(entry["title"]),
                body=Template(entry["body"]),
                link=None if link is None else Template(link),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"template {name!r} in {locale}.toml: {exc}") from exc
    return found


@cache
def shipped_templates() -> TemplateCatalogue:
    """The templates shipped with the platform (read once per process)."""
    templates: dict[tuple[str, str], MessageTemplate] = {}
    for locale in LOCALES:
        templates.update(_load_locale(locale))
    names = {name for name, _ in templates}
    for name in names:
        for locale in LOCALES:
            if (name, locale) not in templates:
                raise ConfigurationError(f"template {name!r} has no {locale} version")
    return TemplateCatalogue(templates)


def format_yuan(fen: int) -> str:
    """Integer fen as yuan text for a template: ``12345`` → ``"123.45"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
