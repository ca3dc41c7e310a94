"""The NGSI-LD API (ETSI GS CIM 009) of the city information library, at ``/ngsi-ld/v1``.

One module per resource family; each holds an ``APIRouter`` named ``router``.
"""

from fastapi import APIRouter

from smartcity.api.ngsi_ld import (
    contexts,
    discovery,
    entities,
    entity_operations,
    subscriptions,
    temporal,
)

PREFIX = "/ngsi-ld/v1"

router = APIRouter(prefix=PREFIX)
for module in (entities, entity_operations, discovery, temporal, subscriptions, contexts):
    router.include_router(module.router)
