"""HTTP surface of the IoT agent, shaped like FIWARE's IoT Agent.

Provisioning (``NGSILD-Tenant`` header picks the tenant)::

    POST   /iot/devices               {"devices": [{...}]} or one device object -> 201
    GET    /iot/devices[?limit&offset]
    GET    /iot/devices/{device_id}
    DELETE /iot/devices/{device_id}   -> 204

Mount :data:`router` and the agent exists for the application's lifetime, consuming MQTT
too when ``SMARTCITY_MQTT_URL`` is set (:func:`iot_lifespan`).

Ingestion (the API key and device id name the device, and with it the tenant)::

    POST /iot/json?k=<apikey>&i=<device_id>   {"t": 21.5, "TimeInstant": "..."}
    POST /iot/d?k=<apikey>&i=<device_id>      t|21.5|h|40
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from smartcity.api.dependencies import platform_of
from smartcity.api.responses import JsonResponse
from smartcity.gateways.iot.agent import IotAgent
from smartcity.gateways.iot.mqtt import start_mqtt, stop_mqtt
from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.platform import Platform


@asynccontextmanager
async def iot_lifespan(application: FastAPI) -> AsyncIterator[None]:
    """Create the application's agent and, if ``SMARTCITY_MQTT_URL`` is set, consume MQTT.

    FastAPI runs a router's lifespan inside the application's, so mounting :data:`router`
    is all the assembly does: the consumer starts after the platform and stops before it.
    """
    platform = getattr(application.state, "platform", None)
    if not isinstance(platform, Platform):
        raise ConfigurationError("the application was not built by smartcity.api.create_app")
    agent = IotAgent.for_platform(platform)
    application.state.iot_agent = agent
    consumer = await start_mqtt(platform, agent)
    application.state.iot_mqtt = consumer
    try:
        yield
    finally:
        await stop_mqtt(consumer)


router = APIRouter(prefix="/iot", tags=["IoT agent 物联网接入"], lifespan=iot_lifespan)

MAX_TENANT = 64


def get_agent(request: Request) -> IotAgent:
    """The application's IoT agent (one per application, so its device cache is shared)."""
    agent = getattr(request.app.state, "iot_agent", None)
    if isinstance(agent, IotAgent):
        return agent
    agent = IotAgent.for_platform(platform_of(request))
    request.app.state.iot_agent = agent
    return agent


def get_tenant(
    tenant: Annotated[str | None, Header(alias="NGSILD-Tenant")] = None,
) -> str:
    """The tenant the request names ('' is the default tenant)."""
    value = (tenant or "").strip()
    if len(value) > MAX_TENANT or any(not (c.isalnum() or c in "_-") for c in value):
        raise BadRequestData("NGSILD-Tenant must be up to 64 letters, digits, _ or -")
    return value


Agent = Annotated[IotAgent, Depends(get_agent)]
Tenant = Annotated[str, Depends(get_tenant)]
ApiKey = Annotated[str | None, Query(alias="k", description="API key of the device group")]
DeviceId = Annotated[str | None, Query(alias="i", description="device id")]


@router.post("/devices", status_code=201)
async def provision_devices(request: Request, agent: Agent, tenant: Tenant) -> Response:
    """Provision one device or ``{"devices": [...]}``; creates each device's entity."""
    document = _json(await request.body())
    documents = document.get("devices") if isinstance(document, dict) else None
    if documents is None:
        documents = [document]
    if not isinstance(documents, list) or not documents:
        raise BadRequestData("devices must be a non-empty list")
    devices = await run_in_threadpool(agent.provision, tenant, documents)
    return JsonResponse({"devices": [d.document() for d in devices]}, status_code=201)


@router.get("/devices")
def list_devices(
    agent: Agent,
    tenant: Tenant,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The tenant's devices, by id."""
    devices = agent.list_devices(tenant, limit=limit, offset=offset)
    return JsonResponse({"count": len(devices), "devices": [d.document() for d in devices]})


@router.get("/devices/{device_id}")
def get_device(device_id: str, agent: Agent, tenant: Tenant) -> Response:
    """One device of the tenant."""
    return JsonResponse(agent.get_device(tenant, device_id).document())


@router.delete("/devices/{device_id}", status_code=204)
def delete_device(device_id: str, agent: Agent, tenant: Tenant) -> Response:
    """Deprovision a device; its entity and history stay."""
    agent.delete_device(tenant, device_id)
    return Response(status_code=204)


@router.post("/json")
async def ingest_json(
    request: Request, agent: Agent, api_key: ApiKey = None, device_id: DeviceId = None
) -> Response:
    """Measures as a JSON object of object ids to values (``TimeInstant`` = observedAt)."""
    key, device = _identity(api_key, device_id)
    count = await run_in_threadpool(agent.ingest_json, key, device, await request.body())
    return JsonResponse({"measures": count})


@router.post("/d")
async def ingest_ultralight(
    request: Request, agent: Agent, api_key: ApiKey = None, device_id: DeviceId = None
) -> Response:
    """Measures as UltraLight 2.0 text (``t|21.5|h|40``, groups separated by ``#``)."""
    key, device = _identity(api_key, device_id)
    body = await request.body()
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise BadRequestData("the UltraLight payload is not UTF-8 text") from None
    count = await run_in_threadpool(agent.ingest_ultralight, key, device, text)
    return JsonResponse({"measures": count})


def _identity(api_key: str | None, device_id: str | None) -> tuple[str, str]:
    if not api_key or not device_id:
        raise BadRequestData("name the device with the query parameters k=<apikey>&i=<device_id>")
    return api_key, device_id


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequestData(f"the body is not valid JSON: {exc}") from None
