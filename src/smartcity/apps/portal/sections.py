"""The "my page" section registry: apps contribute sections to the citizen's page.

An app registers a :class:`MyPageSection` (a name, zh/en titles and a function of the
platform and the signed-in principal answering JSON) in its ``setup`` through
``smartcity.apps.portal.api.register_section``. The page shows every registered section;
the sections it expects (card, notices, applications, complaints) are reported as not
available while no installed app provides them, never filled with made-up data. A
section that fails is reported as unavailable for that answer, so one broken app never
breaks the whole page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smartcity.kernel.errors import ConfigurationError, DomainError

if TYPE_CHECKING:
    from smartcity.kernel.identity.principal import Principal
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)

SectionProvider = Callable[["Platform", "Principal"], Mapping[str, Any]]


@dataclass(frozen=True)
class MyPageSection:
    """One section of the citizen's page and the function that fills it."""

    name: str
    title_zh: str
    title_en: str
    provide: SectionProvider
    # Sections are shown in ascending order, then by name.
    order: int = 100


@dataclass(frozen=True)
class SectionAnswer:
    name: str
    title_zh: str
    title_en: str
    available: bool
    reason: str | None = None
    data: Mapping[str, Any] | None = None


# Sections the page expects from other apps: (name, zh, en, order).
EXPECTED_SECTIONS: tuple[tuple[str, str, str, int], ...] = (
    ("card", "我的市民卡", "My citizen card", 50),
    ("notices", "为您推送", "Notices for you", 60),
    ("applications", "我的办件", "My applications", 70),
    ("complaints", "我的诉求", "My complaints", 80),
)


class SectionRegistry:
    """The sections of one platform, by name."""

    def __init__(self) -> None:
        self._sections: dict[str, MyPageSection] = {}

    def register(self, section: MyPageSection) -> None:
        """Add a section; a second section of the same name is a configuration error."""
        if not section.name or not section.name.replace("_", "").isalnum():
            raise ConfigurationError(f"section name {section.name!r} must be a word")
        if section.name in self._sections:
            raise ConfigurationError(f"two apps provide the my page section {section.name!r}")
        self._sections[section.name] = section

    def names(self) -> list[str]:
        return sorted(self._sections)

    def answer(self, platform: Platform, principal: Principal) -> list[SectionAnswer]:
        """Every section for this principal: registered ones filled, expected ones marked."""
        answers: list[tuple[int, SectionAnswer]] = []
        for section in self._sections.values():
            answers.append((section.order, _fill(section, platform, principal)))
        for name, title_zh, title_en, order in EXPECTED_SECTIONS:
            if name not in self._sections:
                missing = SectionAnswer(name, title_zh, title_en, False, "not installed")
                answers.append((order, missing))
        answers.sort(key=lambda pair: (pair[0], pair[1].name))
        return [answer for _, answer in answers]


def _fill(section: MyPageSection, platform: Platform, principal: Principal) -> SectionAnswer:
    try:
        data = dict(section.provide(platform, principal))
    except DomainError as error:
        return SectionAnswer(section.name, section.title_zh, section.title_en, False, error.reason)
    except Exception:
        # One app's failure must not take the whole page down; the log keeps the cause.
        log.exception("my page section %s failed", section.name)
        reason = "temporarily unavailable"
        return SectionAnswer(section.name, section.title_zh, section.title_en, False, reason)
    return SectionAnswer(section.name, section.title_zh, section.title_en, True, None, data)
