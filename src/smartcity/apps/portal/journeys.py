"""场景式服务 Scenario journeys: the catalogue shipped as data (``journeys.toml``).

A journey gathers what one life event needs across departments. The catalogue is read
once per process and checked: unique slugs, known document kinds, step slugs unique
within their journey. A citizen's progress is kept in ``portal_journey``.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from smartcity.kernel.errors import ConfigurationError, NotFound


@dataclass(frozen=True, slots=True)
class DocumentKind:
    code: str
    label_zh: str
    label_en: str
    keywords: tuple[str, ...]

    def matches(self, name: str) -> bool:
        """True when a stored document's name says it is of this kind."""
        lowered = name.lower()
        return any(keyword.lower() in lowered for keyword in self.keywords)


@dataclass(frozen=True, slots=True)
class Step:
    slug: str
    title_zh: str
    title_en: str
    department: str
    service: str
    documents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Journey:
    slug: str
    title_zh: str
    title_en: str
    summary_zh: str
    summary_en: str
    steps: tuple[Step, ...]

    def step(self, slug: str) -> Step:
        for step in self.steps:
            if step.slug == slug:
                return step
        raise NotFound(f"journey {self.slug!r} has no step {slug!r}", step=slug)


@dataclass(frozen=True, slots=True)
class Catalogue:
    journeys: tuple[Journey, ...]
    documents: dict[str, DocumentKind]

    def journey(self, slug: str) -> Journey:
        for journey in self.journeys:
            if journey.slug == slug:
                return journey
        raise NotFound(f"no journey {slug!r}", journey=slug)


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    """The catalogue from its TOML form; ConfigurationError naming what is wrong."""
    try:
        documents = {
            code: DocumentKind(code, entry["label_zh"], entry["label_en"], tuple(entry["keywords"]))
            for code, entry in data.get("documents", {}).items()
        }
        journeys = tuple(
            Journey(
                slug=entry["slug"],
                title_zh=entry["title_zh"],
                title_en=entry["title_en"],
                summary_zh=entry["summary_zh"],
                summary_en=entry["summary_en"],
                steps=tuple(
                    Step(
                        slug=step["slug"],
                        title_zh=step["title_zh"],
                        title_en=step["title_en"],
                        department=step["department"],
                        service=step["service"],
                        documents=tuple(step.get("documents", ())),
                    )
                    for step in entry["step"]
                ),
            )
            for entry in data.get("journey", [])
        )
    except (KeyError, TypeError) as error:
        raise ConfigurationError(f"journeys catalogue: missing or wrong field {error}") from None
    slugs = [journey.slug for journey in journeys]
    if len(set(slugs)) != len(slugs):
        raise ConfigurationError("journeys catalogue: two journeys share a slug")
    for journey in journeys:
        steps = [step.slug for step in journey.steps]
        if not steps or len(set(steps)) != len(steps):
            raise ConfigurationError(f"journey {journey.slug!r}: steps missing or repeated")
        for step in journey.steps:
            unknown = [kind for kind in step.documents if kind not in documents]
            if unknown:
                raise ConfigurationError(
                    f"journey {journey.slug!r} step {step.slug!r}: unknown documents {unknown}"
                )
    return Catalogue(journeys=journeys, documents=documents)


@functools.cache
def catalogue() -> Catalogue:
    """The shipped catalogue (read once per process)."""
    text = resources.files("smartcity.apps.portal").joinpath("journeys.toml").read_text("utf-8")
    return parse_catalogue(tomllib.loads(text))
