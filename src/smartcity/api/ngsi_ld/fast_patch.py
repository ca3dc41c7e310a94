"""The hot write routes, ``PATCH /ngsi-ld/v1/entities/{id}/attrs[/{attr}]``, as plain ASGI.

Sensors and apps update attribute values far more often than anything else; FastAPI's
route matching (every route tried in turn), dependency solving and the threadpool hop
cost several times the library's own work for such a request. This middleware sits
inside the body limit and answers these two paths itself, with the very functions the
FastAPI routes call (:func:`~smartcity.api.ngsi_ld.common.request_with_body`,
:func:`~smartcity.api.ngsi_ld.entities.patch_attribute_of`,
:func:`~smartcity.api.ngsi_ld.entities.update_attributes_of`): same validation, same
@context and Link handling, same tenants, same problem documents. The FastAPI routes stay
for the OpenAPI document and for anything unusual (an ASGI ``root_path``), which this
middleware hands on untouched.

It reads the scope itself: the headers once into a dict, the body straight from
``receive``, the 204 as two messages. A Starlette ``Request`` (its header mapping looked
up name by name, its body stream) and ``Response`` cost more than the rest of the
request's work on the loop; one is built only to answer an error.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from smartcity.api.ngsi_ld import PREFIX
from smartcity.api.ngsi_ld.common import first_headers, request_with_body
from smartcity.api.ngsi_ld.entities import patch_attribute_of, update_attributes_of, update_reply
from smartcity.api.problems import handle_domain_error, handle_http_exception
from smartcity.kernel.errors import ConfigurationError, DomainError
from smartcity.kernel.platform import Platform

# The FastAPI route patterns compiled the way Starlette compiles them ({x:path} is ".*",
# {x} is "[^/]+"), tried in the routes' order: the single attribute first.
ATTRIBUTE_PATH = re.compile(
    "^" + re.escape(PREFIX) + "/entities/(?P<entity_id>.*)/attrs/(?P<attribute>[^/]+)$"
)
ATTRIBUTES_PATH = re.compile("^" + re.escape(PREFIX) + "/entities/(?P<entity_id>.*)/attrs$")


class PatchFastPath:
    """Pure ASGI middleware answering the two attribute PATCH routes before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PATCH" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        single = ATTRIBUTE_PATH.match(path)
        matched = single or ATTRIBUTES_PATH.match(path)
        if matched is None:
            await self.app(scope, receive, send)
            return

        async def body() -> bytes:
            # As Starlette's ``Request.body``: every chunk up to the last, or the client gone.
            chunks: list[bytes] = []
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "http.request":
                    chunk = message.get("body", b"")
                    if chunk:
                        chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
                elif kind == "http.disconnect":
                    raise ClientDisconnect()

        response: Response
        try:
            ngsi = await request_with_body(first_headers(scope["headers"]).get, body)
            platform = platform_in(scope)
            if single is not None:
                await patch_attribute_of(ngsi, platform, single["entity_id"], single["attribute"])
                await send({"type": "http.response.start", "status": 204, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            result = await update_attributes_of(ngsi, platform, matched["entity_id"])
            response = update_reply(ngsi, result)
        except DomainError as error:
            response = await handle_domain_error(Request(scope, receive), error)
        except HTTPException as error:  # a streamed body over the limit (413)
            response = await handle_http_exception(Request(scope, receive), error)
        await response(scope, receive, send)


def platform_in(scope: Scope) -> Platform:
    """The platform the application serves (as ``api.dependencies.platform_of``)."""
    platform = getattr(scope["app"].state, "platform", None)
    if not isinstance(platform, Platform):
        raise ConfigurationError("the application was not built by smartcity.api.create_app")
    return platform
