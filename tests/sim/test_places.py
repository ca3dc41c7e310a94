"""Areas and departments published as AdministrativeArea / Organization entities."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.context.tables import context_entity
from smartcity.kernel.geo.queries import load_areas
from smartcity.kernel.identity.queries import list_departments
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from smartcity.sim.city import seed_city
from smartcity.sim.places import publish_places
from smartcity.sim.profiles import TINY
from smartcity.sim.progress import SilentProgress

DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"


@pytest.fixture
def platform(store: Store, clock: FixedClock, tmp_path: Path) -> Platform:
    seed_city(store, profile=TINY, seed=7, progress=SilentProgress(), clock=clock)
    return Platform.open(Settings(data_dir=tmp_path), store=store, clock=clock, migrate=False)


def test_every_area_and_department_becomes_one_entity(platform: Platform) -> None:
    publish_places(platform.context, platform.store, batch_size=200)
    summary = publish_places(platform.context, platform.store)  # again: still one each

    areas = sum(
        len(load_areas(platform.store, level))
        for level in ("city", "district", "street", "community", "grid")
    )
    departments = list_departments(platform.store)
    assert (summary.areas, summary.organizations) == (areas, len(departments))
    with platform.store.connect() as conn:
        counts = dict(
            conn.execute(
                select(context_entity.c.type, func.count()).group_by(context_entity.c.type)
            ).all()
        )
    # Areas and departments only: no citizen, staff or household is published.
    assert counts == {
        DEFAULT + "AdministrativeArea": areas,
        DEFAULT + "Organization": len(departments),
    }


def test_entities_name_level_parent_outline_and_kind(platform: Platform) -> None:
    publish_places(platform.context, platform.store)
    grid = load_areas(platform.store, "grid")[0]
    department = list_departments(platform.store)[0]

    area = platform.context.retrieve_entity("", f"urn:ngsi-ld:AdministrativeArea:{grid.code}")
    organization = platform.context.retrieve_entity(
        "", f"urn:ngsi-ld:Organization:{department.code}"
    )

    assert area[DEFAULT + "name"][0]["value"] == grid.name
    assert area[DEFAULT + "alternateName"][0]["value"] == grid.name_en
    assert area[DEFAULT + "areaLevel"][0]["value"] == "grid"
    assert area[DEFAULT + "code"][0]["value"] == grid.code
    assert area[DEFAULT + "refParent"][0]["object"] == (
        f"urn:ngsi-ld:AdministrativeArea:{grid.code[:12]}"
    )
    outline = area["https://uri.etsi.org/ngsi-ld/location"][0]["value"]
    assert outline["type"] in ("Polygon", "MultiPolygon")
    assert organization[DEFAULT + "name"][0]["value"] == department.name
    assert organization[DEFAULT + "alternateName"][0]["value"] == department.name_en
    assert organization[DEFAULT + "kind"][0]["value"] == department.kind.value
