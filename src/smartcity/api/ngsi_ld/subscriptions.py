"""NGSI-LD subscriptions: ``/subscriptions`` (ETSI GS CIM 009, clause 5.8).

Thin HTTP over :class:`~smartcity.kernel.context.subscriptions.SubscriptionActions`,
with the shared NGSI-LD request handling of :mod:`smartcity.api.ngsi_ld.common`
(tenant, @context, media types, replies). A subscription is stored with the @context of
the request that created it; answers are compacted with the asking request's context.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from smartcity.api.dependencies import get_platform
from smartcity.api.ngsi_ld.common import (
    NgsiRequest,
    has_option,
    reply,
    with_body,
    without_body,
)
from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.subscriptions import (
    Subscription,
    SubscriptionActions,
    subscription_document,
)
from smartcity.kernel.context.subscriptions.terms import Terms
from smartcity.kernel.platform import Platform

router = APIRouter(tags=["NGSI-LD subscriptions"])

PATH = "/ngsi-ld/v1/subscriptions"
COUNT_HEADER = "NGSILD-Results-Count"

Running = Annotated[Platform, Depends(get_platform)]
WithBody = Annotated[NgsiRequest, Depends(with_body)]
WithoutBody = Annotated[NgsiRequest, Depends(without_body)]


def actions_of(platform: Platform) -> SubscriptionActions:
    """The subscription actions on the running platform."""
    return SubscriptionActions(platform.store, platform.bus, platform.clock)


def body_of(ngsi: NgsiRequest) -> dict[str, Any]:
    """The request's JSON object without its ``@context`` member."""
    if not isinstance(ngsi.body, dict):
        raise BadRequestData("the body must be a JSON object")
    return {name: value for name, value in ngsi.body.items() if name != "@context"}


def document_of(
    subscription: Subscription, ngsi: NgsiRequest, platform: Platform, options: str | None
) -> Any:
    """A subscription compacted with the asking request's @context (``sysAttrs``: times)."""
    return subscription_document(
        subscription,
        platform.clock.now(),
        terms=Terms(ngsi.context),
        system_attributes=has_option(options, "sysAttrs"),
    )


@router.post("/subscriptions", status_code=201)
def create_subscription(ngsi: WithBody, platform: Running) -> Response:
    """Create a subscription; 201 with its URL in ``Location``."""
    subscription = actions_of(platform).create(ngsi.tenant, body_of(ngsi), ngsi.context_value)
    return Response(status_code=201, headers={"Location": f"{PATH}/{subscription.id}"})


@router.get("/subscriptions")
def query_subscriptions(
    ngsi: WithoutBody,
    platform: Running,
    limit: Annotated[int, Query()] = 20,
    offset: Annotated[int, Query()] = 0,
    count: Annotated[bool, Query()] = False,
    options: Annotated[str | None, Query()] = None,
) -> Response:
    """A page of the tenant's subscriptions (``count=true`` adds NGSILD-Results-Count)."""
    page, total = actions_of(platform).query(ngsi.tenant, limit=limit, offset=offset)
    documents = [document_of(subscription, ngsi, platform, options) for subscription in page]
    return reply(ngsi, documents, headers={COUNT_HEADER: str(total)} if count else None)


@router.get("/subscriptions/{subscription_id:path}")
def retrieve_subscription(
    subscription_id: str,
    ngsi: WithoutBody,
    platform: Running,
    options: Annotated[str | None, Query()] = None,
) -> Response:
    """One subscription with its status and notification status."""
    subscription = actions_of(platform).retrieve(ngsi.tenant, subscription_id)
    return reply(ngsi, document_of(subscription, ngsi, platform, options))


@router.patch("/subscriptions/{subscription_id:path}", status_code=204)
def update_subscription(subscription_id: str, ngsi: WithBody, platform: Running) -> Response:
    """Apply a fragment to a subscription; 204."""
    actions_of(platform).update(ngsi.tenant, subscription_id, body_of(ngsi), ngsi.context_value)
    return Response(status_code=204)


@router.delete("/subscriptions/{subscription_id:path}", status_code=204)
def delete_subscription(subscription_id: str, ngsi: WithoutBody, platform: Running) -> Response:
    """Delete a subscription; 204."""
    actions_of(platform).delete(ngsi.tenant, subscription_id)
    return Response(status_code=204)
