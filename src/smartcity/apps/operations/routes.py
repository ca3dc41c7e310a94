"""HTTP of the operations centre: the ``/ops`` page and the JSON it draws from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from smartcity.api.dependencies import get_store
from smartcity.api.permissions import public
from smartcity.api.responses import GeoJsonResponse
from smartcity.apps.operations import api
from smartcity.apps.operations.models import DistrictPopulation
from smartcity.kernel.geo import queries as geo_queries
from smartcity.kernel.geo.codes import AreaLevel
from smartcity.kernel.storage import Store
from smartcity.web.shell import WebShell, get_shell

# Browser libraries the page cannot work without; the layout warns when one is missing.
VENDOR_FILES = ("maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css", "echarts.min.js")

router = APIRouter()

StoreDependency = Annotated[Store, Depends(get_store)]


@router.get("/ops", include_in_schema=False)
async def operations_page(
    request: Request, shell: Annotated[WebShell, Depends(get_shell)]
) -> HTMLResponse:
    """城市运营中心 page: district map, district details and population chart."""
    return shell.render(request, "operations/ops.html", vendor_files=VENDOR_FILES)


@router.get(
    "/api/geo/areas",
    tags=["geo"],
    openapi_extra=public("administrative boundaries are published open data"),
    summary="区划边界 Areas of one level as GeoJSON",
    response_class=GeoJsonResponse,
    responses={
        200: {
            "description": "A GeoJSON FeatureCollection; each feature's properties hold "
            "the area's code, name, name_en, level and parent code.",
            "content": {"application/geo+json": {}},
        },
        422: {"description": "Unknown level or malformed parent code (problem document)."},
    },
)
def areas(
    store: StoreDependency,
    level: Annotated[
        AreaLevel, Query(description="district | street | community | grid (or city)")
    ] = AreaLevel.DISTRICT,
    parent: Annotated[
        str | None,
        Query(
            description="only the children of this area code, e.g. 440106",
            max_length=15,
            pattern=r"^[0-9]+$",
        ),
    ] = None,
) -> GeoJsonResponse:
    """Boundaries of every area of ``level`` (optionally under ``parent``)."""
    return GeoJsonResponse(geo_queries.areas_geojson(store, level, parent_code=parent))


@router.get(
    "/api/stats/population-by-district",
    tags=["stats"],
    openapi_extra=public("district totals, as in the statistical yearbook"),
    summary="各区人口 Registered citizens per district",
)
def population_by_district(store: StoreDependency) -> list[DistrictPopulation]:
    """Every district with its registered citizens, in division-code order."""
    return api.population_by_district(store)
