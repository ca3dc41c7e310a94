"""RFC 7807 problem documents for every error the API answers with.

A caller always gets ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and ``instance``; domain errors add their ``details`` as extension members and
every problem carries a machine-readable ``code``. Unexpected exceptions become a bare
500 problem: the traceback goes to the log, never to the caller.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smartcity.api.responses import ProblemResponse
from smartcity.kernel.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Unauthenticated,
)

log = logging.getLogger(__name__)

PROBLEM_TYPE_PREFIX = "urn:smartcity:problem:"
# Members RFC 7807 defines; extension members never overwrite them.
STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "code"})

# An HTTP error raised by the framework gets the same code and title as the domain error
# of that status, so clients see one vocabulary whichever layer refused the request.
DOMAIN_ERRORS_BY_STATUS: dict[int, type[DomainError]] = {
    error.status: error
    for error in (
        InvalidInput,
        NotFound,
        Conflict,
        PermissionDenied,
        Unauthenticated,
        PayloadTooLarge,
    )
}

LOCATION_NAMES = {
    "query": "query parameter",
    "path": "path parameter",
    "header": "header",
    "cookie": "cookie",
    "body": "body",
}


def status_code_name(status: int) -> str:
    """The problem code for an HTTP status: 404 -> ``not-found``."""
    if status in DOMAIN_ERRORS_BY_STATUS:
        return DOMAIN_ERRORS_BY_STATUS[status].code
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return f"http-{status}"
    return phrase.lower().replace(" ", "-").replace("'", "")


def status_title(status: int) -> str:
    """The problem title for an HTTP status (its reason phrase unless a domain error has it)."""
    if status in DOMAIN_ERRORS_BY_STATUS:
        return DOMAIN_ERRORS_BY_STATUS[status].title
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def http_reason_phrase(status: int) -> str:
    """The standard reason phrase, which Starlette uses as an exception's default detail."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    type_uri: str | None = None,
) -> ProblemResponse:
    """A problem document about ``request``; ``extensions`` become extra members.

    ``type_uri`` overrides the platform's ``urn:smartcity:problem:<code>`` type, for
    errors a standard names (NGSI-LD's ``https://uri.etsi.org/ngsi-ld/errors/...``).
    """
    document: dict[str, Any] = {
        "type": type_uri or PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    for key, value in (extensions or {}).items():
        if key not in STANDARD_MEMBERS:
            document[key] = value
    return ProblemResponse(document, status_code=status, headers=headers)


def describe_location(location: Sequence[Any]) -> str:
    """``("query", "level")`` -> ``query parameter 'level'``; body paths joined by dots."""
    if not location:
        return "request"
    source = str(location[0])
    rest = [str(part) for part in location[1:]]
    name = LOCATION_NAMES.get(source, source)
    if not rest:
        return name
    if source == "body":
        return "body field '" + ".".join(rest) + "'"
    return f"{name} '{'.'.join(rest)}'"


def validation_problem(request: Request, errors: Sequence[Any]) -> ProblemResponse:
    """A 422 problem listing each invalid input with where it was and what was wrong."""
    listed = []
    for error in errors:
        location = tuple(error.get("loc", ()))
        listed.append(
            {
                "location": describe_location(location),
                "message": str(error.get("msg", "invalid")),
                "kind": str(error.get("type", "invalid")),
            }
        )
    detail = "; ".join(f"{item['location']}: {item['message']}" for item in listed)
    return problem_response(
        request,
        status=422,
        code="invalid-input",
        title="Invalid input",
        detail=detail or "the request is not valid",
        extensions={"errors": listed},
    )


def http_detail(request: Request, exc: HTTPException) -> str:
    """Keep a route's own detail; replace the router's bare reason phrase with a useful one."""
    if exc.detail and exc.detail != http_reason_phrase(exc.status_code):
        return str(exc.detail)
    if exc.status_code == 404:
        return f"nothing is served at {request.url.path}"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        suffix = f"; allowed: {allowed}" if allowed else ""
        return f"{request.method} is not allowed on {request.url.path}{suffix}"
    return status_title(exc.status_code)


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    """A :class:`DomainError` carries its own status, code, title and reason."""
    if not isinstance(exc, DomainError):  # pragma: no cover - registered for DomainError only
        raise exc
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.reason,
        extensions=exc.details,
        type_uri=exc.type_uri,
    )


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's request validation errors, as a 422 problem."""
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    return validation_problem(request, exc.errors())


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """404, 405, 413 and any ``HTTPException`` a route raises, as problems."""
    if not isinstance(exc, HTTPException):  # pragma: no cover
        raise exc
    return problem_response(
        request,
        status=exc.status_code,
        code=status_code_name(exc.status_code),
        title=status_title(exc.status_code),
        detail=http_detail(request, exc),
        extensions=getattr(exc, "problem_extensions", None),
        headers=exc.headers,
    )


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    """Anything else is our fault: log it whole, tell the caller only that it happened.

    A database connection lost under the request (the server restarted, a network
    blip) is the one expected exception: the pool has already dropped it, so the same
    request sent again succeeds. It is answered 503 with ``Retry-After``.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        log.warning("database connection lost on %s %s", request.method, request.url.path)
        return problem_response(
            request,
            status=503,
            code="database-unavailable",
            title="Service Unavailable",
            detail="the connection to the database was lost; send the request again",
            headers={"Retry-After": "1"},
        )
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=500,
        code="internal-error",
        title="Internal Server Error",
        detail="the server failed to answer this request; the error has been logged",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error on ``app`` with a problem document."""
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(HTTPException, handle_http_exception)
    # Starlette routes the ``Exception`` handler to its outermost middleware, so it also
    # covers errors raised in other middleware.
    app.add_exception_handler(Exception, handle_unexpected_error)
