"""The active JSON-LD context: term definitions, term expansion and IRI compaction.

An :class:`LdContext` is what processing one or more ``@context`` values yields
(JSON-LD 1.1 Processing Algorithms, "Context Processing" and "Create Term Definition").
The platform only ever expands and compacts *names* (entity types, attribute names,
values of ``@vocab``-typed members), never whole documents, so the class keeps only what
those need: the term definitions and the vocabulary mapping. It is immutable; the
expansion and compaction results are memoised per instance, so one resolved context is
cheap to reuse across requests and threads.

Building contexts lives in :mod:`smartcity.kernel.context.jsonld_processing`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

# Characters after which an IRI may be cut to form a compact IRI (RFC 3987 gen-delims):
# a simple term whose IRI ends with one of them becomes usable as a prefix.
GEN_DELIMS = frozenset(":/?#[]@")

KEYWORDS = frozenset(
    {
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    }
)

# Memo tables grow with the names clients send; past this size they start over rather
# than grow without bound (a client inventing names must not exhaust memory).
MEMO_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class TermDefinition:
    """One term of an active context.

    ``iri`` is the expanded IRI (or keyword, for aliases such as ``id`` → ``@id``);
    ``type_mapping`` is the ``@type`` coercion (``@id``, ``@vocab``, ``@json`` or a
    datatype IRI); ``container`` the sorted ``@container`` values; ``prefix`` whether the
    term may be used as the prefix of a compact IRI; ``protected`` whether a later
    context may not redefine it.
    """

    term: str
    iri: str
    type_mapping: str | None = None
    container: tuple[str, ...] = ()
    language: str | None = None
    prefix: bool = False
    protected: bool = False
    reverse: bool = False
    scoped_context: Any = None

    def same_definition(self, other: TermDefinition) -> bool:
        """Whether ``other`` defines the term identically, ignoring protection.

        JSON-LD lets a context repeat a protected term's definition unchanged.
        """
        return (
            self.iri == other.iri
            and self.type_mapping == other.type_mapping
            and self.container == other.container
            and self.language == other.language
            and self.prefix == other.prefix
            and self.reverse == other.reverse
            and self.scoped_context == other.scoped_context
        )


def is_absolute_iri(value: str) -> bool:
    """Whether ``value`` has an IRI scheme (``scheme:...``, RFC 3987)."""
    scheme, colon, _rest = value.partition(":")
    if not colon or not scheme or not scheme[0].isascii() or not scheme[0].isalpha():
        return False
    return all(ch.isascii() and (ch.isalnum() or ch in "+-.") for ch in scheme)


def looks_like_keyword(value: str) -> bool:
    """Whether ``value`` has the form JSON-LD reserves for keywords (``@`` + letters)."""
    return len(value) > 1 and value[0] == "@" and value[1:].isascii() and value[1:].isalpha()


class LdContext:
    """An immutable, processed JSON-LD context.

    ``source`` is the ``@context`` value it was resolved from (``None`` for the core
    context alone), kept so that a response can name the same context it was asked in.
    """

    __slots__ = ("_compacted", "_expanded", "_inverse", "_prefixes", "_terms", "_vocab", "source")

    def __init__(
        self,
        terms: Mapping[str, TermDefinition],
        vocab: str | None,
        source: Any = None,
    ) -> None:
        self._terms: Mapping[str, TermDefinition] = MappingProxyType(dict(terms))
        self._vocab = vocab
        self.source = source
        self._expanded: dict[str, str] = {}
        self._compacted: dict[str, str] = {}
        # IRI → the term compaction picks for it: the shortest, then the least.
        self._inverse: dict[str, str] = {}
        for definition in sorted(
            self._terms.values(), key=lambda definition: (len(definition.term), definition.term)
        ):
            if not definition.reverse:
                self._inverse.setdefault(definition.iri, definition.term)
        # Prefix candidates for compaction, longest IRI first so that the most specific
        # prefix wins; ties broken by the shorter, then lexicographically least term.
        self._prefixes: tuple[TermDefinition, ...] = tuple(
            sorted(
                (
                    definition
                    for definition in self._terms.values()
                    if definition.prefix and not definition.reverse
                ),
                key=lambda definition: (
                    -len(definition.iri),
                    len(definition.term),
                    definition.term,
                ),
            )
        )

    def __repr__(self) -> str:
        return f"LdContext({len(self._terms)} terms, vocab={self._vocab!r})"

    @property
    def vocab(self) -> str | None:
        """The vocabulary mapping (``@vocab``) that undefined terms expand against."""
        return self._vocab

    @property
    def terms(self) -> Mapping[str, TermDefinition]:
        """All term definitions, by term (read-only)."""
        return self._terms

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)

    def __contains__(self, term: object) -> bool:
        return term in self._terms

    def term_definition(self, term: str) -> TermDefinition | None:
        """The definition of ``term``, or ``None`` when the context does not define it."""
        return self._terms.get(term)

    def expand_term(self, term: str) -> str:
        """Expand an entity type, attribute name or vocabulary value to its IRI.

        A defined term gives its IRI; ``prefix:suffix`` with a defined prefix gives the
        prefix's IRI plus the suffix; any other absolute IRI passes through; anything
        else is appended to the vocabulary mapping (for NGSI-LD, the default context
        ``https://uri.etsi.org/ngsi-ld/default-context/``).
        """
        cached = self._expanded.get(term)
        if cached is not None:
            return cached
        expanded = self._expand(term)
        if len(self._expanded) >= MEMO_LIMIT:
            self._expanded.clear()
        self._expanded[term] = expanded
        return expanded

    def compact_iri(self, iri: str) -> str:
        """Compact an IRI to the shortest name that expands back to it.

        In order of preference: a term whose IRI it is (shortest, then least), the
        suffix after the vocabulary mapping, a compact IRI ``prefix:suffix``, the IRI
        itself. Every answer satisfies ``expand_term(compact_iri(iri)) == iri`` whenever
        any name does.
        """
        cached = self._compacted.get(iri)
        if cached is not None:
            return cached
        compacted = self._compact(iri)
        if len(self._compacted) >= MEMO_LIMIT:
            self._compacted.clear()
        self._compacted[iri] = compacted
        return compacted

    def _expand(self, term: str) -> str:
        if term in KEYWORDS:
            return term
        definition = self._terms.get(term)
        if definition is not None:
            return definition.iri
        prefix, colon, suffix = term.partition(":")
        if colon and prefix:
            if prefix == "_" or suffix.startswith("//"):
                return term
            prefix_definition = self._terms.get(prefix)
            if prefix_definition is not None and prefix_definition.prefix:
                return prefix_definition.iri + suffix
            if is_absolute_iri(term):
                return term
        if self._vocab is not None:
            return self._vocab + term
        return term

    def _compact(self, iri: str) -> str:
        best_term = self._inverse.get(iri)
        if best_term is not None:
            return best_term
        vocab = self._vocab
        if vocab is not None and iri.startswith(vocab) and len(iri) > len(vocab):
            suffix = iri[len(vocab) :]
            if suffix not in self._terms and self._expand(suffix) == iri:
                return suffix
        best_compact: str | None = None
        for definition in self._prefixes:
            if not iri.startswith(definition.iri) or len(iri) == len(definition.iri):
                continue
            candidate = definition.term + ":" + iri[len(definition.iri) :]
            if candidate in self._terms or self._expand(candidate) != iri:
                continue
            if best_compact is None or (len(candidate), candidate) < (
                len(best_compact),
                best_compact,
            ):
                best_compact = candidate
        if best_compact is not None:
            return best_compact
        return iri
