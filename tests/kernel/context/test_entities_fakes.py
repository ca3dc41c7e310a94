"""A stand-in @context for the entity tests (the real one is ``jsonld``)."""

from __future__ import annotations

CORE = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = CORE + "default-context/"
CORE_TERMS = frozenset(
    {"location", "observationSpace", "operationSpace", "observedAt", "unitCode", "datasetId"}
)


class FakeContext:
    """Core terms to the core vocabulary, every other term to the default context."""

    def __init__(self, extra: dict[str, str] | None = None) -> None:
        self.extra = extra or {}

    def expand_term(self, term: str) -> str:
        if term in self.extra:
            return self.extra[term]
        if ":" in term:
            return term
        if term in CORE_TERMS:
            return CORE + term
        return DEFAULT + term

    def compact_iri(self, iri: str) -> str:
        for term, target in self.extra.items():
            if target == iri:
                return term
        if iri.startswith(DEFAULT):
            return iri[len(DEFAULT) :]
        if iri.startswith(CORE) and iri[len(CORE) :] in CORE_TERMS:
            return iri[len(CORE) :]
        return iri
