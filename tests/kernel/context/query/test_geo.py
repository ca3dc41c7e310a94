"""geoQ parsing and validation: every mistake is BadRequestData with a reason."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.query.geo import LOCATION, build_geo_query, distance_metres


def geo(
    georel: Any = "within", geometry: Any = "Point", coordinates: Any = "[1, 2]", **more: Any
) -> Any:
    return build_geo_query(georel=georel, geometry=geometry, coordinates=coordinates, **more)


def test_nothing_given_is_no_geo_query() -> None:
    assert build_geo_query(georel=None, geometry=None, coordinates=None) is None


def test_near_with_distances_and_default_geoproperty() -> None:
    query = geo("near;maxDistance==1500", "Point", [119.6, 39.9])
    assert (query.georel, query.max_distance, query.min_distance) == ("near", 1500.0, None)
    assert query.geoproperty == LOCATION
    assert geo("near;minDistance==10").min_distance == 10.0
    expanded = geo(geoproperty="observationSpace", expand=lambda term: "x:" + term)
    assert expanded.geoproperty == "x:observationSpace"


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"georel": "nearby"}, "unknown georel"),
        ({"georel": "near"}, "maxDistance"),
        ({"georel": "near;maxDistance==-1"}, "non-negative"),
        ({"georel": "near;radius==5"}, "maxDistance or minDistance"),
        ({"georel": "within;maxDistance==5"}, "no modifier"),
        ({"geometry": "Circle"}, "unknown geometry"),
        ({"coordinates": "[1,"}, "not a JSON array"),
        ({"coordinates": "[200, 0]"}, "outside"),
        ({"coordinates": '["a", 0]'}, "non-number"),
        ({"geometry": "LineString", "coordinates": "[[1, 2]]"}, "at least 2"),
        (
            {"geometry": "Polygon", "coordinates": "[[[0,0],[1,0],[1,1],[0,1]]]"},
            "end where it starts",
        ),
        (
            {"geometry": "Polygon", "coordinates": "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]"},
            "Self-intersection",
        ),
        ({"coordinates": None}, "also needs coordinates"),
    ],
)
def test_invalid_geo_queries(arguments: dict[str, Any], reason: str) -> None:
    with pytest.raises(BadRequestData) as caught:
        geo(**arguments)
    assert reason in caught.value.reason


def test_distances_in_metres() -> None:
    # One degree of latitude is about 111.2 km on the sphere.
    assert distance_metres(Point(119.0, 39.0), Point(119.0, 40.0)) == pytest.approx(
        111_195, rel=1e-3
    )


@given(
    st.one_of(st.sampled_from(["near;maxDistance==5", "within", "intersects"]), st.text()),
    st.one_of(st.sampled_from(["Point", "Polygon", "MultiPolygon", "LineString"]), st.text()),
    st.one_of(
        st.text(), st.text("[]0123456789,.-e "), st.recursive(st.floats() | st.integers(), st.lists)
    ),
)
def test_anything_is_a_geo_query_or_bad_request_data(
    georel: str, geometry: str, coordinates: Any
) -> None:
    with contextlib.suppress(BadRequestData):
        geo(georel, geometry, coordinates)
