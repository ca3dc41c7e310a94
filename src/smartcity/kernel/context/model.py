"""The shapes of NGSI-LD entities inside the information library.

Inside the kernel an entity is a plain dict in the **normalized, expanded** form::

    {"id": "urn:ngsi-ld:Station:1",
     "type": ["https://example.org/Station"],
     "https://example.org/temperature": [
         {"type": "Property", "value": 21.5, "observedAt": "2026-11-21T09:00:00.000Z",
          "https://example.org/accuracy": {"type": "Property", "value": 0.1}}]}

- entity names (types, attributes, sub-attributes) are full IRIs;
- every attribute maps to a list of instances (several only with distinct ``datasetId``);
- an instance holds the core members named by :data:`INSTANCE_MEMBERS` under their short
  names, and its sub-attributes by IRI, each a single instance dict (sub-attributes are
  never multi-instance);
- ``createdAt``/``modifiedAt`` appear on the entity and on instances only when read with
  system attributes.

This module holds the vocabulary (kinds, member names, core IRIs) and the small
validators every other module shares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from smartcity.kernel.context.errors import BadRequestData

Entity = dict[str, Any]
Instance = dict[str, Any]

CORE_BASE = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCABULARY = CORE_BASE + "default-context/"
LOCATION = CORE_BASE + "location"
OBSERVATION_SPACE = CORE_BASE + "observationSpace"
OPERATION_SPACE = CORE_BASE + "operationSpace"
GEO_ATTRIBUTES = frozenset({LOCATION, OBSERVATION_SPACE, OPERATION_SPACE})

PROPERTY = "Property"
RELATIONSHIP = "Relationship"
GEO_PROPERTY = "GeoProperty"
LANGUAGE_PROPERTY = "LanguageProperty"
# The kinds NGSI-LD v1.8 added: raw JSON, vocabulary terms, ordered lists.
JSON_PROPERTY = "JsonProperty"
VOCAB_PROPERTY = "VocabProperty"
LIST_PROPERTY = "ListProperty"
LIST_RELATIONSHIP = "ListRelationship"
AttributeKind = Literal[
    "Property",
    "Relationship",
    "GeoProperty",
    "LanguageProperty",
    "JsonProperty",
    "VocabProperty",
    "ListProperty",
    "ListRelationship",
]
ATTRIBUTE_KINDS: frozenset[str] = frozenset(
    {
        PROPERTY,
        RELATIONSHIP,
        GEO_PROPERTY,
        LANGUAGE_PROPERTY,
        JSON_PROPERTY,
        VOCAB_PROPERTY,
        LIST_PROPERTY,
        LIST_RELATIONSHIP,
    }
)
# Where each kind keeps its value.
VALUE_MEMBER: dict[str, str] = {
    PROPERTY: "value",
    RELATIONSHIP: "object",
    GEO_PROPERTY: "value",
    LANGUAGE_PROPERTY: "languageMap",
    JSON_PROPERTY: "json",
    VOCAB_PROPERTY: "vocab",
    LIST_PROPERTY: "valueList",
    LIST_RELATIONSHIP: "objectList",
}

SYSTEM_MEMBERS = frozenset({"createdAt", "modifiedAt"})
# Members of an attribute instance that are not sub-attributes.
INSTANCE_MEMBERS = frozenset(
    {
        "type",
        "value",
        "object",
        "languageMap",
        "json",
        "vocab",
        "valueList",
        "objectList",
        "lang",
        "datasetId",
        "observedAt",
        "unitCode",
        "objectType",
        "createdAt",
        "modifiedAt",
        "instanceId",
    }
)
# Members of an entity that are not attributes.
ENTITY_MEMBERS = frozenset({"id", "type", "@context", "createdAt", "modifiedAt"})

GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)

MAX_ID_LENGTH = 256
MAX_NAME_LENGTH = 512
MAX_UNIT_CODE_LENGTH = 16
MAX_TENANT_LENGTH = 64

# scheme ":" rest, without characters RFC 3986 never allows in a URI.
URI_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+\Z")
# Characters NGSI-LD forbids in names (clause 4.6.2), plus anything that is no name.
FORBIDDEN_NAME = re.compile(r"[\s<>\"'=;()\\{}|^`\x00-\x1f\x7f]")
TENANT_PATTERN = re.compile(r"[A-Za-z0-9_\-]{0,64}\Z")

RepresentationFormat = Literal["normalized", "keyValues", "concise"]


class LdContext(Protocol):
    """A JSON-LD @context as the library needs it (implemented by ``jsonld``)."""

    def expand_term(self, term: str) -> str:
        """The IRI of a (vocabulary-relative) term; IRIs come back unchanged."""
        ...

    def compact_iri(self, iri: str) -> str:
        """The shortest term of this context for ``iri`` (the IRI itself if none)."""
        ...


def is_uri(value: object) -> bool:
    """Whether ``value`` is an absolute URI (``scheme:rest``)."""
    return isinstance(value, str) and URI_PATTERN.match(value) is not None


def check_entity_id(value: object, *, what: str = "entity id") -> str:
    """``value`` if it is a usable entity id (absolute URI, ≤ 256 characters)."""
    if not isinstance(value, str):
        raise BadRequestData(f"{what} must be a string URI, got {type(value).__name__}")
    if len(value) > MAX_ID_LENGTH:
        raise BadRequestData(f"{what} is longer than {MAX_ID_LENGTH} characters")
    if not is_uri(value):
        raise BadRequestData(f"{what} {value!r} is not an absolute URI (scheme:rest)")
    return value


def check_name(value: object, *, what: str = "attribute name") -> str:
    """``value`` if it is a valid NGSI-LD name (term, compact IRI or IRI)."""
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"{what} must be a non-empty string")
    if FORBIDDEN_NAME.search(value):
        raise BadRequestData(f"{what} {value!r} contains a forbidden character")
    if len(value) > MAX_NAME_LENGTH:
        raise BadRequestData(f"{what} is longer than {MAX_NAME_LENGTH} characters")
    return value


def check_tenant(value: str | None) -> str:
    """The tenant named by an ``NGSILD-Tenant`` header ('' is the default tenant)."""
    tenant = value or ""
    if TENANT_PATTERN.match(tenant) is None:
        raise BadRequestData(
            f"tenant {tenant[:80]!r} is not valid: use up to {MAX_TENANT_LENGTH} letters, "
            "digits, '_' or '-'"
        )
    return tenant


def parse_instant(value: object, *, what: str) -> datetime:
    """An ISO 8601 date-time (``2026-11-21T09:00:00Z``); no zone means UTC."""
    if not isinstance(value, str) or "T" not in value:
        raise BadRequestData(f"{what} must be an ISO 8601 date-time string, got {value!r}")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestData(f"{what} {value!r} is not an ISO 8601 date-time") from None
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def format_instant(instant: datetime) -> str:
    """The canonical text of an instant: UTC, ``Z``, milliseconds (microseconds if any)."""
    utc = instant.astimezone(UTC)
    spec = "milliseconds" if utc.microsecond % 1000 == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def instance_key(instance: Mapping[str, Any]) -> str:
    """The datasetId of an instance, '' for the default instance."""
    dataset = instance.get("datasetId")
    return dataset if isinstance(dataset, str) else ""
