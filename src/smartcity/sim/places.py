"""Places as entities: the city's areas and departments in the information library.

Every area of the hierarchy (city, districts, streets, communities, unit grids) becomes an
``AdministrativeArea`` entity, and every department an ``Organization``, so applications
and departments query and subscribe to places like any other thing of the city::

    urn:ngsi-ld:AdministrativeArea:440103001   name, alternateName (English), areaLevel,
                                               code, location (polygon), refParent
    urn:ngsi-ld:Organization:<code>            name, alternateName, kind, refDistrict?

People are not places: no citizen, staff or household record is published.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from smartcity.gateways.iot.library import ContextWriter, batch_errors
from smartcity.gateways.iot.vocabulary import expand_name
from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.geo.codes import AreaLevel
from smartcity.kernel.geo.models import Area
from smartcity.kernel.geo.queries import load_areas
from smartcity.kernel.identity.models import Department
from smartcity.kernel.identity.queries import list_departments
from smartcity.kernel.storage import Store
from smartcity.sim.progress import Progress, SilentProgress

AREA_TYPE = "AdministrativeArea"
ORGANIZATION_TYPE = "Organization"
# ~0.1 m: more digits only make the polygons heavier.
COORDINATE_DECIMALS = 6
LEVELS = (AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID)


@dataclass(frozen=True)
class PlacesSummary:
    """How many entities :func:`publish_places` wrote."""

    areas: int
    organizations: int


def area_entity_id(code: str) -> str:
    """The entity id of the area with ``code``."""
    return f"urn:ngsi-ld:{AREA_TYPE}:{code}"


def organization_entity_id(code: str) -> str:
    """The entity id of the department with ``code``."""
    return f"urn:ngsi-ld:{ORGANIZATION_TYPE}:{code}"


def publish_places(
    library: ContextWriter,
    store: Store,
    *,
    tenant: str = "",
    batch_size: int = 500,
    progress: Progress | None = None,
) -> PlacesSummary:
    """Upsert every area and department of the seeded city as entities, in batches.

    Idempotent: publishing again replaces the same attributes with the same values.
    """
    progress = progress or SilentProgress()
    areas = [area for level in LEVELS for area in load_areas(store, level)]
    departments = list_departments(store)
    with progress.step("publishing places 发布地点实体", len(areas) + len(departments)) as advance:
        for batch in _batches([area_entity(area) for area in areas], batch_size):
            _upsert(library, tenant, batch)
            advance(len(batch))
        for batch in _batches([organization_entity(d) for d in departments], batch_size):
            _upsert(library, tenant, batch)
            advance(len(batch))
    return PlacesSummary(areas=len(areas), organizations=len(departments))


def area_entity(area: Area) -> dict[str, Any]:
    """The expanded ``AdministrativeArea`` entity of an area."""
    entity: dict[str, Any] = {
        "id": area_entity_id(area.code),
        "type": [expand_name(AREA_TYPE)],
        expand_name("name"): [_property(area.name)],
        expand_name("alternateName"): [_property(area.name_en)],
        expand_name("areaLevel"): [_property(area.level.value)],
        expand_name("code"): [_property(area.code)],
        expand_name("location"): [{"type": "GeoProperty", "value": geometry_value(area.geometry)}],
    }
    if area.parent_code is not None:
        entity[expand_name("refParent")] = [
            {"type": "Relationship", "object": area_entity_id(area.parent_code)}
        ]
    return entity


def organization_entity(department: Department) -> dict[str, Any]:
    """The expanded ``Organization`` entity of a department (no staff in it)."""
    entity: dict[str, Any] = {
        "id": organization_entity_id(department.code),
        "type": [expand_name(ORGANIZATION_TYPE)],
        expand_name("name"): [_property(department.name)],
        expand_name("alternateName"): [_property(department.name_en)],
        expand_name("kind"): [_property(department.kind.value)],
    }
    if department.district_code:
        entity[expand_name("refDistrict")] = [
            {"type": "Relationship", "object": area_entity_id(department.district_code)}
        ]
    return entity


def geometry_value(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of a geometry with lists (not tuples) and rounded coordinates."""
    document: dict[str, Any] = _rounded(mapping(geometry))
    return document


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, COORDINATE_DECIMALS)
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return value


def _property(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def _batches(entities: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(entities), max(size, 1)):
        yield list(entities[start : start + size])


def _upsert(library: ContextWriter, tenant: str, entities: list[dict[str, Any]]) -> None:
    errors = batch_errors(library.upsert_entities(tenant, entities, mode="update"))
    if errors:
        raise BadRequestData(f"the library refused {len(errors)} place(s): {errors[0]}")
