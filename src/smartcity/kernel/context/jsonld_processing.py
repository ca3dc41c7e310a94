"""JSON-LD 1.1 context processing, reduced to what term expansion needs.

Follows "Context Processing" and "Create Term Definition" of the JSON-LD 1.1 Processing
Algorithms for the members that change how a *name* expands: term definitions (simple
and expanded), ``@vocab``, ``@protected``, ``@prefix``, ``@import``, ``null`` resets and
remote contexts (through a loader the caller supplies, so this module does no I/O).
Scoped contexts inside term definitions are kept on the definition but not applied: the
platform expands names of entities and attributes only. ``@base`` and ``@language`` are
accepted and ignored for the same reason.

Every rule a context breaks raises :class:`~smartcity.kernel.context.errors.BadRequestData`
naming the offending term, so a client sees which part of its ``@context`` is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.jsonld_context import (
    GEN_DELIMS,
    KEYWORDS,
    LdContext,
    TermDefinition,
    is_absolute_iri,
    looks_like_keyword,
)

# Remote contexts may include further remote contexts; past this depth it is a loop or
# an abuse (JSON-LD's "context overflow").
MAX_REMOTE_DEPTH = 16

# Members allowed in an expanded term definition (JSON-LD 1.1).
TERM_DEFINITION_MEMBERS = frozenset(
    {
        "@id",
        "@reverse",
        "@type",
        "@container",
        "@context",
        "@language",
        "@direction",
        "@index",
        "@nest",
        "@prefix",
        "@propagate",
        "@protected",
    }
)
CONTAINER_VALUES = frozenset({"@list", "@set", "@language", "@index", "@id", "@type", "@graph"})
CONTEXT_MEMBERS_IGNORED = frozenset({"@base", "@language", "@direction", "@propagate"})

# Given a remote context URL, returns that document's ``@context`` value.
RemoteLoader = Callable[[str], Any]


def invalid(reason: str, **details: Any) -> BadRequestData:
    """The error for a context that is not valid JSON-LD."""
    return BadRequestData(f"invalid JSON-LD @context: {reason}", **details)


class ContextProcessor:
    """Applies local contexts, in order, to a growing active context."""

    def __init__(
        self,
        load_remote: RemoteLoader,
        initial: LdContext | None = None,
        *,
        initial_overridable: bool = False,
    ) -> None:
        self._load_remote = load_remote
        self.terms: dict[str, TermDefinition] = dict(initial.terms) if initial else {}
        self.vocab: str | None = initial.vocab if initial else None
        # With ``initial_overridable`` the initial terms (the core context's, so that user
        # contexts can use its prefixes) may be redefined despite being protected: the
        # core context is applied again last, and NGSI-LD says it then simply wins.
        self._overridable: dict[str, TermDefinition] = (
            dict(initial.terms) if initial and initial_overridable else {}
        )
        # Whether protected terms may be redefined: true only while the platform applies
        # the core context last, which by NGSI-LD rule overrides whatever came before.
        self._override_protected = False

    def result(self, source: Any) -> LdContext:
        """The active context built so far, remembering ``source`` as its origin."""
        return LdContext(self.terms, self.vocab, source)

    def apply(
        self,
        local_context: Any,
        *,
        remote_chain: tuple[str, ...] = (),
        override_protected: bool = False,
    ) -> None:
        """Process one ``@context`` value: a URL, an object, ``null`` or a list of them."""
        items = local_context if isinstance(local_context, list) else [local_context]
        self._override_protected = override_protected
        for item in items:
            if item is None:
                self._reset(override_protected)
            elif isinstance(item, str):
                self._apply_remote(item, remote_chain, override_protected)
            elif isinstance(item, dict):
                self._apply_object(item, remote_chain)
            else:
                raise invalid(f"a context must be a URL, an object or null, got {item!r}")

    def _reset(self, override_protected: bool) -> None:
        if not override_protected and any(
            definition.protected and not self._is_overridable(term, definition)
            for term, definition in self.terms.items()
        ):
            raise invalid("null cannot clear a context with protected terms")
        self.terms = {}
        self.vocab = None

    def _is_overridable(self, term: str, definition: TermDefinition) -> bool:
        return self._overridable.get(term) is definition

    def _apply_remote(
        self, url: str, remote_chain: tuple[str, ...], override_protected: bool
    ) -> None:
        if not is_absolute_iri(url):
            raise invalid(f"context reference {url!r} is not an absolute URL", context=url)
        if url in remote_chain:
            raise invalid(f"remote context {url!r} includes itself", context=url)
        if len(remote_chain) >= MAX_REMOTE_DEPTH:
            raise invalid("remote contexts nest too deeply", context=url)
        self.apply(
            self._load_remote(url),
            remote_chain=(*remote_chain, url),
            override_protected=override_protected,
        )

    def _apply_object(
        self,
        local: Mapping[str, Any],
        remote_chain: tuple[str, ...],
    ) -> None:
        if "@import" in local:
            local = self._imported(local, remote_chain)
        version = local.get("@version")
        if version is not None and version != 1.1:
            raise invalid(f"@version must be 1.1, got {version!r}")
        if "@vocab" in local:
            self.vocab = self._vocab_mapping(local["@vocab"])
        protected_default = local.get("@protected", False)
        if not isinstance(protected_default, bool):
            raise invalid("@protected must be true or false")
        defined: dict[str, bool] = {}
        for term in local:
            if term in KEYWORDS or term == "@import":
                continue
            self._define(local, term, defined, protected_default)

    def _imported(
        self, local: Mapping[str, Any], remote_chain: tuple[str, ...]
    ) -> Mapping[str, Any]:
        url = local["@import"]
        if not isinstance(url, str) or not is_absolute_iri(url):
            raise invalid("@import must be an absolute URL")
        if url in remote_chain or len(remote_chain) >= MAX_REMOTE_DEPTH:
            raise invalid(f"@import of {url!r} loops", context=url)
        imported = self._load_remote(url)
        if not isinstance(imported, dict):
            raise invalid(f"@import of {url!r} must be a single context object", context=url)
        if "@import" in imported:
            raise invalid(f"@import of {url!r} itself imports", context=url)
        merged = dict(imported)
        merged.update({key: value for key, value in local.items() if key != "@import"})
        return merged

    def _vocab_mapping(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid("@vocab must be a string or null")
        expanded = self._expand(value, {}, {})
        if not (is_absolute_iri(expanded) or expanded.startswith("_:")):
            raise invalid(f"@vocab {value!r} is not an absolute IRI")
        return expanded

    def _expand(self, value: str, local: Mapping[str, Any], defined: dict[str, bool]) -> str:
        """IRI Expansion (vocab-relative) while definitions are still being created."""
        if value in KEYWORDS:
            return value
        if looks_like_keyword(value):
            raise invalid(f"{value!r} is not a JSON-LD keyword")
        if value in local and not defined.get(value, False):
            self._define(local, value, defined, bool(local.get("@protected", False)))
        definition = self.terms.get(value)
        if definition is not None:
            return definition.iri
        prefix, colon, suffix = value.partition(":")
        if colon and prefix:
            if prefix == "_" or suffix.startswith("//"):
                return value
            if prefix in local and not defined.get(prefix, False):
                self._define(local, prefix, defined, bool(local.get("@protected", False)))
            prefix_definition = self.terms.get(prefix)
            if prefix_definition is not None and prefix_definition.prefix:
                return prefix_definition.iri + suffix
            if is_absolute_iri(value):
                return value
        if self.vocab is not None:
            return self.vocab + value
        return value

    def _define(
        self,
        local: Mapping[str, Any],
        term: str,
        defined: dict[str, bool],
        protected_default: bool,
    ) -> None:
        """Create Term Definition for ``term`` of ``local`` (JSON-LD 1.1, 4.2)."""
        state = defined.get(term)
        if state is True:
            return
        if state is False:
            raise invalid(f"term {term!r} is defined through itself (cyclic IRI mapping)")
        if term == "":
            raise invalid("a term cannot be the empty string")
        if looks_like_keyword(term):
            # JSON-LD says to ignore terms that look like future keywords.
            defined[term] = True
            return
        defined[term] = False
        value = local[term]
        previous = self.terms.pop(term, None)
        definition = self._definition(local, term, value, defined, protected_default)
        defined[term] = True
        if (
            previous is not None
            and previous.protected
            and not self._override_protected
            and not self._is_overridable(term, previous)
        ):
            if definition is None or not previous.same_definition(definition):
                self.terms[term] = previous
                raise invalid(f"protected term {term!r} cannot be redefined", term=term)
            definition = previous
        if definition is not None:
            self.terms[term] = definition

    def _definition(
        self,
        local: Mapping[str, Any],
        term: str,
        value: Any,
        defined: dict[str, bool],
        protected_default: bool,
    ) -> TermDefinition | None:
        if value is None or (isinstance(value, dict) and value.get("@id", "") is None):
            # A null mapping removes the term: it then expands like any unknown name.
            return None
        simple = isinstance(value, str)
        if simple:
            value = {"@id": value}
        if not isinstance(value, dict):
            raise invalid(f"the definition of {term!r} must be a string, an object or null")
        unknown = set(value) - TERM_DEFINITION_MEMBERS
        if unknown:
            raise invalid(f"the definition of {term!r} has unknown members {sorted(unknown)}")
        protected = value.get("@protected", protected_default)
        if not isinstance(protected, bool):
            raise invalid(f"@protected of {term!r} must be true or false")
        type_mapping = self._type_mapping(local, term, value, defined)
        reverse = "@reverse" in value
        iri = self._iri_of(local, term, value, defined, reverse)
        container = self._container(term, value)
        prefix = self._prefix_flag(term, value, iri, simple)
        language = value.get("@language")
        if language is not None and not isinstance(language, str):
            raise invalid(f"@language of {term!r} must be a string or null")
        return TermDefinition(
            term=term,
            iri=iri,
            type_mapping=type_mapping,
            container=container,
            language=language,
            prefix=prefix,
            protected=protected,
            reverse=reverse,
            scoped_context=value.get("@context"),
        )

    def _type_mapping(
        self,
        local: Mapping[str, Any],
        term: str,
        value: Mapping[str, Any],
        defined: dict[str, bool],
    ) -> str | None:
        if "@type" not in value:
            return None
        raw = value["@type"]
        if not isinstance(raw, str):
            raise invalid(f"@type of {term!r} must be a string")
        if raw in ("@id", "@vocab", "@json", "@none"):
            return raw
        expanded = self._expand(raw, local, defined)
        if not is_absolute_iri(expanded):
            raise invalid(f"@type {raw!r} of {term!r} is not an IRI")
        return expanded

    def _iri_of(
        self,
        local: Mapping[str, Any],
        term: str,
        value: Mapping[str, Any],
        defined: dict[str, bool],
        reverse: bool,
    ) -> str:
        if reverse:
            target = value["@reverse"]
            if not isinstance(target, str) or "@id" in value:
                raise invalid(f"@reverse of {term!r} must be a string, without @id")
            expanded = self._expand(target, local, defined)
            if not is_absolute_iri(expanded):
                raise invalid(f"@reverse of {term!r} is not an IRI")
            return expanded
        raw_id = value.get("@id")
        if raw_id is not None and raw_id != term:
            if not isinstance(raw_id, str):
                raise invalid(f"@id of {term!r} must be a string")
            if looks_like_keyword(raw_id) and raw_id not in KEYWORDS:
                raise invalid(f"@id {raw_id!r} of {term!r} is not a keyword")
            expanded = self._expand(raw_id, local, defined)
            if expanded == "@context":
                raise invalid(f"{term!r} cannot alias @context")
            if expanded not in KEYWORDS and not (
                is_absolute_iri(expanded) or expanded.startswith("_:")
            ):
                raise invalid(f"@id {raw_id!r} of {term!r} does not expand to an IRI")
            if ":" in term[1:-1] or "/" in term:
                # A term that looks like a compact IRI or IRI must mean what it looks like.
                defined[term] = True
                if self._expand(term, {}, defined) != expanded:
                    raise invalid(f"term {term!r} looks like an IRI but maps elsewhere")
            return expanded
        if ":" in term[1:]:
            prefix = term.partition(":")[0]
            if prefix in local and not defined.get(prefix, False):
                self._define(local, prefix, defined, bool(local.get("@protected", False)))
            expanded = self._expand(term, {}, defined)
            if is_absolute_iri(expanded) or expanded.startswith("_:"):
                return expanded
        if "/" in term and is_absolute_iri(term):
            return term
        if self.vocab is not None:
            return self.vocab + term
        raise invalid(f"{term!r} has no IRI: no @id and no @vocab to expand it against")

    @staticmethod
    def _container(term: str, value: Mapping[str, Any]) -> tuple[str, ...]:
        raw = value.get("@container")
        if raw is None:
            return ()
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, str) and v in CONTAINER_VALUES for v in values):
            raise invalid(f"@container of {term!r} is not valid: {raw!r}")
        return tuple(sorted(values))

    @staticmethod
    def _prefix_flag(term: str, value: Mapping[str, Any], iri: str, simple: bool) -> bool:
        if "@prefix" in value:
            flag = value["@prefix"]
            if not isinstance(flag, bool):
                raise invalid(f"@prefix of {term!r} must be true or false")
            if flag and (":" in term or "/" in term):
                raise invalid(f"{term!r} looks like an IRI and cannot be a prefix")
            if flag and iri in KEYWORDS:
                raise invalid(f"keyword alias {term!r} cannot be a prefix")
            return flag
        if not simple or ":" in term or "/" in term or iri in KEYWORDS:
            return False
        return iri[-1:] in GEN_DELIMS or iri.startswith("_:")
