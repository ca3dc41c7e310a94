"""NGSI-LD ProblemDetails error types (ETSI GS CIM 009, clause on error types).

Each is a :class:`DomainError`, so the API answers it as problem+json; ``type_uri`` is
the ETSI error type the API puts in the problem's ``type`` member.
"""

from __future__ import annotations

from typing import ClassVar

from smartcity.kernel.errors import DomainError

ERROR_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(DomainError):
    """Base of the NGSI-LD error types."""

    type_uri: ClassVar[str | None] = ERROR_BASE + "BadRequestData"


class BadRequestData(NgsiLdError):
    status = 400
    code = "BadRequestData"
    title = "Bad request data"
    type_uri = ERROR_BASE + "BadRequestData"


class InvalidRequest(NgsiLdError):
    status = 400
    code = "InvalidRequest"
    title = "Invalid request"
    type_uri = ERROR_BASE + "InvalidRequest"


class ResourceNotFound(NgsiLdError):
    status = 404
    code = "ResourceNotFound"
    title = "Resource not found"
    type_uri = ERROR_BASE + "ResourceNotFound"


class NonexistentTenant(NgsiLdError):
    status = 404
    code = "NonexistentTenant"
    title = "Tenant does not exist"
    type_uri = ERROR_BASE + "NonexistentTenant"


class AlreadyExists(NgsiLdError):
    status = 409
    code = "AlreadyExists"
    title = "Already exists"
    type_uri = ERROR_BASE + "AlreadyExists"


class OperationNotSupported(NgsiLdError):
    status = 422
    code = "OperationNotSupported"
    title = "Operation not supported"
    type_uri = ERROR_BASE + "OperationNotSupported"


class TooComplexQuery(NgsiLdError):
    status = 403
    code = "TooComplexQuery"
    title = "Too complex query"
    type_uri = ERROR_BASE + "TooComplexQuery"


class TooManyResults(NgsiLdError):
    status = 403
    code = "TooManyResults"
    title = "Too many results"
    type_uri = ERROR_BASE + "TooManyResults"


class LdContextNotAvailable(NgsiLdError):
    status = 503
    code = "LdContextNotAvailable"
    title = "LD context not available"
    type_uri = ERROR_BASE + "LdContextNotAvailable"


class RequestTooLarge(NgsiLdError):
    status = 413
    code = "RequestEntityTooLarge"
    title = "Request entity too large"
    type_uri = ERROR_BASE + "BadRequestData"
