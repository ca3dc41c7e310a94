"""Naming attributes and types as IRIs, the way the library stores them.

A short name a device mapping gives (``temperature``) expands with the NGSI-LD core
@context, exactly as a request without a user @context would: core terms (``location``,
``status`` …) to their ETSI IRIs, everything else to the core context's default
vocabulary. A name that is already an IRI is kept.
"""

from __future__ import annotations

from smartcity.kernel.context.jsonld_core import core_context


def expand_name(term: str) -> str:
    """The IRI of ``term`` under the core context (an IRI stays as it is)."""
    return core_context().expand_term(term)


def compact_name(iri: str) -> str:
    """The short name of an IRI under the core context (the inverse of :func:`expand_name`)."""
    return core_context().compact_iri(iri)
