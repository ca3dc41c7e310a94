"""Where a request's @context comes from: the Link header or the body (NGSI-LD 6.3.5).

- ``Content-Type: application/json`` (and ``application/merge-patch+json``), and every
  request without a body: the context is the URL of the ``Link`` header whose ``rel`` is
  ``http://www.w3.org/ns/json-ld#context``, or the core context when there is none. A
  JSON body must not carry an ``@context`` member (BadRequestData).
- ``Content-Type: application/ld+json``: the context is the body's ``@context`` member,
  which must be present; a JSON-LD Link header as well is ambiguous and refused
  (BadRequestData).

Responses name their context the same way: a Link header for ``application/json``, an
``@context`` member for ``application/ld+json``.
"""

from __future__ import annotations

from typing import Any, Final

from smartcity.kernel.context.errors import BadRequestData

JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON_LD_MEDIA_TYPE = "application/ld+json"


class _NoBody:
    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Final[Any] = _NoBody()
"""Stands for "the request has no body" (GET, DELETE) in :func:`request_context_value`."""

NO_CONTEXT_MEMBER: Final[Any] = _NoBody()
"""Stands for "the body has no ``@context`` member" in :func:`request_context_value`."""


def context_link_header(url: str) -> str:
    """The ``Link`` header value that names ``url`` as a response's JSON-LD context."""
    return f'<{url}>; rel="{JSONLD_CONTEXT_REL}"; type="{JSON_LD_MEDIA_TYPE}"'


def parse_link_header(value: str | None) -> str | None:
    """The URL of the JSON-LD context link in a ``Link`` header value, if there is one.

    Follows RFC 8288 (several comma-separated links, quoted or bare parameters, ``rel``
    with several space-separated types). A malformed header, or more than one context
    link, is BadRequestData: guessing which context the client meant would silently
    store data under the wrong names.
    """
    if value is None or not value.strip():
        return None
    found: list[str] = []
    for target, parameters in _links(value):
        relations = parameters.get("rel", "").split()
        if JSONLD_CONTEXT_REL in relations:
            found.append(target)
    if len(found) > 1:
        raise BadRequestData("the Link header names more than one JSON-LD context")
    return found[0] if found else None


def request_context_value(
    *,
    content_type: str | None,
    link_header: str | None,
    body_context: Any = NO_BODY,
) -> Any:
    """The ``@context`` value of a request, for :meth:`ContextResolver.resolve`.

    ``body_context`` is the body's ``@context`` member, :data:`NO_CONTEXT_MEMBER` when
    the body has none, or :data:`NO_BODY` for a request without a body. Returns ``None``
    (core context only), a URL, or the body's value.
    """
    link = parse_link_header(link_header)
    if body_context is NO_BODY:
        return link
    if is_json_ld(content_type):
        if link is not None:
            raise BadRequestData(
                "an application/ld+json request carries its @context in the body, "
                "not in a Link header"
            )
        if body_context is NO_CONTEXT_MEMBER:
            raise BadRequestData("an application/ld+json body must have an @context member")
        return body_context
    if body_context is not NO_CONTEXT_MEMBER:
        raise BadRequestData(
            "an application/json body cannot have an @context member: "
            "send the context in a Link header or use application/ld+json"
        )
    return link


def is_json_ld(content_type: str | None) -> bool:
    """Whether a Content-Type or Accept media type is ``application/ld+json``."""
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == JSON_LD_MEDIA_TYPE


def _links(value: str) -> list[tuple[str, dict[str, str]]]:
    """Parse a Link header into (target, parameters) pairs (RFC 8288, section 3)."""
    links: list[tuple[str, dict[str, str]]] = []
    position = 0
    length = len(value)
    while True:
        position = _skip_space(value, position)
        if position >= length or value[position] != "<":
            raise BadRequestData("malformed Link header: expected <URL>")
        end = value.find(">", position + 1)
        if end < 0:
            raise BadRequestData("malformed Link header: unterminated <URL>")
        target = value[position + 1 : end].strip()
        position = end + 1
        parameters: dict[str, str] = {}
        while True:
            position = _skip_space(value, position)
            if position >= length or value[position] == ",":
                break
            if value[position] != ";":
                raise BadRequestData("malformed Link header: expected ';' or ','")
            name, parameter, position = _parameter(value, position + 1)
            # RFC 8288: only the first occurrence of a parameter counts.
            parameters.setdefault(name, parameter)
        links.append((target, parameters))
        if position >= length:
            return links
        position += 1


def _parameter(value: str, position: int) -> tuple[str, str, int]:
    position = _skip_space(value, position)
    start = position
    while position < len(value) and value[position] not in "=;, \t":
        position += 1
    name = value[start:position].lower()
    if not name:
        raise BadRequestData("malformed Link header: empty parameter name")
    position = _skip_space(value, position)
    if position >= len(value) or value[position] != "=":
        return name, "", position
    position = _skip_space(value, position + 1)
    if position < len(value) and value[position] == '"':
        return _quoted(value, position + 1, name)
    start = position
    while position < len(value) and value[position] not in ";, \t":
        position += 1
    return name, value[start:position], position


def _quoted(value: str, position: int, name: str) -> tuple[str, str, int]:
    characters: list[str] = []
    while position < len(value):
        character = value[position]
        if character == "\\" and position + 1 < len(value):
            characters.append(value[position + 1])
            position += 2
            continue
        if character == '"':
            return name, "".join(characters), position + 1
        characters.append(character)
        position += 1
    raise BadRequestData("malformed Link header: unterminated quoted string")


def _skip_space(value: str, position: int) -> int:
    while position < len(value) and value[position] in " \t":
        position += 1
    return position
