"""What other apps may ask the operations centre (small, typed, read-only)."""

from __future__ import annotations

from smartcity.apps.operations.models import DistrictPopulation
from smartcity.kernel.geo import queries as geo_queries
from smartcity.kernel.identity import queries as identity_queries
from smartcity.kernel.storage import Store


def population_by_district(store: Store) -> list[DistrictPopulation]:
    """Registered citizens of every district, in division-code order.

    Every district of the geography is listed, with 0 where nobody is registered, so a
    chart of the result always shows the whole city.
    """
    counts = identity_queries.count_citizens_by_district(store)
    districts = sorted(geo_queries.load_areas(store, "district"), key=lambda area: area.code)
    return [
        DistrictPopulation(
            code=district.code,
            name=district.name,
            name_en=district.name_en,
            population=counts.get(district.code, 0),
        )
        for district in districts
    ]
