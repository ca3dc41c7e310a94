"""Translations and the reader's language.

Source strings are Chinese (``zh_CN`` is the source locale, shown as written). Other
locales have a Babel catalog at ``translations/<locale>/LC_MESSAGES/messages.po``.

Extracting new strings (``babel.cfg`` lists what is scanned)::

    uv run pybabel extract -F src/smartcity/web/babel.cfg -k N_ \\
        -o src/smartcity/web/translations/messages.pot src/smartcity
    uv run pybabel update -i src/smartcity/web/translations/messages.pot \\
        -d src/smartcity/web/translations -l en

then translate the new entries in the ``.po`` file. No ``pybabel compile`` step: the
``.po`` files are read at start-up (see :func:`load_translations`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from smartcity.kernel.errors import ConfigurationError

SOURCE_LOCALE = "zh_CN"
SUPPORTED_LOCALES: tuple[str, ...] = ("zh_CN", "en")
DOMAIN = "messages"
TRANSLATIONS_DIRECTORY = Path(__file__).parent / "translations"
LOCALE_COOKIE = "smartcity_lang"
LOCALE_QUERY = "lang"
# The value of the HTML ``lang`` attribute (BCP 47) for each locale.
HTML_LANGUAGE = {"zh_CN": "zh-CN", "en": "en"}


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def load_translations(
    directory: Path = TRANSLATIONS_DIRECTORY,
) -> dict[str, NullTranslations]:
    """Gettext translations for every supported locale, read from the ``.po`` catalogs.

    Each ``.po`` file is parsed with Babel and compiled to the binary ``.mo`` format in
    memory, which is the form ``gettext.GNUTranslations`` reads. So the catalogs in the
    repository are the only source of truth: no compiled ``.mo`` files to forget to
    rebuild or commit, at the cost of a few milliseconds at start-up.
    """
    translations: dict[str, NullTranslations] = {SOURCE_LOCALE: NullTranslations()}
    for locale in SUPPORTED_LOCALES:
        if locale == SOURCE_LOCALE:
            continue
        path = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.is_file():
            raise ConfigurationError(f"missing translation catalog {path}")
        with path.open("rb") as source:
            catalog = read_po(source, locale=locale, domain=DOMAIN)
        compiled = io.BytesIO()
        # Fuzzy entries are guesses awaiting review: show the Chinese source instead.
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        translations[locale] = Translations(fp=compiled, domain=DOMAIN)
    return translations


def normalize_locale(value: str | None) -> str | None:
    """Map a language tag (``en-US``, ``zh-Hans-CN``, ``zh_CN``) to a supported locale."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    primary = tag.split("-", 1)[0]
    if primary == "zh":
        # Only simplified Chinese is written; a reader of traditional Chinese still reads
        # it better than English.
        return "zh_CN"
    if primary == "en":
        return "en"
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an ``Accept-Language`` header, most preferred first."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, raw = parameter.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(raw)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


@dataclass(frozen=True)
class LocaleChoice:
    """The locale for one request, and whether to remember it in the cookie."""

    locale: str
    remember: bool


def choose_locale(
    query: Mapping[str, str],
    cookies: Mapping[str, str],
    accept_language: str | None,
    default: str,
) -> LocaleChoice:
    """``?lang=`` (remembered in a cookie), else the cookie, else Accept-Language, else default."""
    asked = normalize_locale(query.get(LOCALE_QUERY))
    if asked is not None:
        return LocaleChoice(asked, remember=asked != cookies.get(LOCALE_COOKIE))
    remembered = normalize_locale(cookies.get(LOCALE_COOKIE))
    if remembered is not None:
        return LocaleChoice(remembered, remember=False)
    for tag in parse_accept_language(accept_language):
        preferred = normalize_locale(tag)
        if preferred is not None:
            return LocaleChoice(preferred, remember=False)
    return LocaleChoice(default if default in SUPPORTED_LOCALES else SOURCE_LOCALE, False)
