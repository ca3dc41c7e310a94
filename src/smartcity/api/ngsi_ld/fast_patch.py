"""The hot write routes, ``PATCH /ngsi-ld/v1/entities/{id}/attrs[/{attr}]``, as plain ASGI.

Sensors and apps update attribute values far more often than anything else; FastAPI's
route matching (every route tried in turn), dependency solving and the threadpool hop
cost several times the library's own work for such a request. This middleware sits
inside the body limit and answers these two paths itself, with the very functions the
FastAPI routes call (:func:`~smartcity.api.ngsi_ld.entities.patch_attribute_reply`,
:func:`~smartcity.api.ngsi_ld.entities.update_attributes_reply`): same validation, same
@context and Link handling, same tenants, same problem documents. The FastAPI routes stay
for the OpenAPI document and for anything unusual (an ASGI ``root_path``), which this
middleware hands on untouched.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from smartcity.api.ngsi_ld import PREFIX
from smartcity.api.ngsi_ld.entities import patch_attribute_reply, update_attributes_reply
from smartcity.api.problems import handle_domain_error, handle_http_exception
from smartcity.kernel.errors import DomainError

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
        several = None if single else ATTRIBUTES_PATH.match(path)
        if single is None and several is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response: Response
        try:
            if single is not None:
                response = await patch_attribute_reply(
                    request, single["entity_id"], single["attribute"]
                )
            elif several is not None:
                response = await update_attributes_reply(request, several["entity_id"])
        except DomainError as error:
            response = await handle_domain_error(request, error)
        except HTTPException as error:  # a streamed body over the limit (413)
            response = await handle_http_exception(request, error)
        await response(scope, receive, send)
