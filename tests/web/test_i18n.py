"""Locale choice and the translation catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from smartcity.web.i18n import (
    LOCALE_COOKIE,
    TRANSLATIONS_DIRECTORY,
    LocaleChoice,
    choose_locale,
    load_translations,
    normalize_locale,
    parse_accept_language,
)

SOURCE_ROOT = Path(__file__).parents[2] / "src" / "smartcity"


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("EN_gb", "en"),
        ("zh", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("zh-TW", "zh_CN"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_locale(tag: str | None, locale: str | None) -> None:
    assert normalize_locale(tag) == locale


def test_accept_language_is_ordered_by_quality_then_position() -> None:
    header = "fr;q=0.9, en-US;q=0.8, zh-CN, de;q=0, *;q=0.1, ja;q=bad"
    assert parse_accept_language(header) == ["zh-CN", "fr", "en-US"]
    assert parse_accept_language(None) == []


def test_query_wins_and_is_remembered() -> None:
    choice = choose_locale({"lang": "en"}, {LOCALE_COOKIE: "zh_CN"}, "zh-CN", "zh_CN")
    assert choice == LocaleChoice("en", remember=True)


def test_query_equal_to_cookie_is_not_set_again() -> None:
    assert choose_locale({"lang": "en"}, {LOCALE_COOKIE: "en"}, None, "zh_CN").remember is False


def test_cookie_beats_accept_language() -> None:
    choice = choose_locale({}, {LOCALE_COOKIE: "en"}, "zh-CN,zh;q=0.9", "zh_CN")
    assert choice == LocaleChoice("en", remember=False)


def test_accept_language_beats_default() -> None:
    assert choose_locale({}, {}, "de, en-GB;q=0.5", "zh_CN").locale == "en"


def test_unknown_everything_falls_back_to_default() -> None:
    assert choose_locale({"lang": "xx"}, {LOCALE_COOKIE: "yy"}, "de", "zh_CN").locale == "zh_CN"
    assert choose_locale({}, {}, None, "en").locale == "en"


def test_english_catalog_translates_and_chinese_is_the_identity() -> None:
    translations = load_translations()
    assert translations["en"].gettext("智慧城市平台") == "Smart City Platform"
    assert translations["zh_CN"].gettext("智慧城市平台") == "智慧城市平台"


def test_every_extracted_string_has_an_english_translation() -> None:
    """The ``.po`` file keeps up with the templates and the N_() markers."""
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    extracted = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(SOURCE_ROOT),
            method_map=method_map,
            options_map=options,
            keywords={"_": None, "gettext": None, "N_": None},
        )
        if isinstance(message, str)
    }
    assert "智慧城市平台" in extracted
    po_path = TRANSLATIONS_DIRECTORY / "en" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as source:
        catalog = read_po(source, locale="en")
    translated = {str(m.id) for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(extracted - translated) == []
