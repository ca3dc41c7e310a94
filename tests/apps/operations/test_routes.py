"""The operations centre's page and data endpoints."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from smartcity.apps.operations import api
from smartcity.kernel.geo.codes import AreaLevel
from smartcity.kernel.geo.models import Area
from smartcity.sim.accounts import DEMO_PEOPLE

PROBLEM = "application/problem+json"


def fake_district(code: str, name: str, name_en: str) -> Area:
    return Area(
        code=code,
        level=AreaLevel.DISTRICT,
        name=name,
        name_en=name_en,
        parent_code="440100",
        centroid_lon=113.3,
        centroid_lat=23.1,
        area_km2=10.0,
        population_weight=0.5,
        geometry=box(113.2, 23.0, 113.4, 23.2),
    )


def test_areas_default_to_districts_as_geojson(empty_client: TestClient) -> None:
    response = empty_client.get("/api/geo/areas")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert response.json() == {"type": "FeatureCollection", "features": []}


def test_unknown_level_is_a_422_problem_naming_the_levels(empty_client: TestClient) -> None:
    response = empty_client.get("/api/geo/areas?level=planet")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert "query parameter 'level'" in body["detail"]
    for level in ("district", "street", "community", "grid"):
        assert level in body["detail"]


@pytest.mark.parametrize("parent", ["44O106", "4401061", "0" * 16])
def test_malformed_parent_is_a_422_problem(empty_client: TestClient, parent: str) -> None:
    response = empty_client.get(f"/api/geo/areas?level=street&parent={parent}")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"]


def test_population_lists_every_district_with_zero_where_nobody_lives(
    empty_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    districts = [
        fake_district("440106", "天河区", "Tianhe"),
        fake_district("440103", "荔湾区", "Liwan"),
    ]

    def load_areas(_store: Any, level: str) -> list[Area]:
        assert level == "district"
        return districts

    monkeypatch.setattr(api.geo_queries, "load_areas", load_areas)
    monkeypatch.setattr(
        api.identity_queries, "count_citizens_by_district", lambda _store: {"440106": 7}
    )
    response = empty_client.get("/api/stats/population-by-district")
    assert response.status_code == 200
    assert response.json() == [
        {"code": "440103", "name": "荔湾区", "name_en": "Liwan", "population": 0},
        {"code": "440106", "name": "天河区", "name_en": "Tianhe", "population": 7},
    ]


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="ops-config">(.*?)</script>', html, re.S)
    assert match is not None
    config = json.loads(match.group(1))
    assert isinstance(config, dict)
    return config


def test_page_is_chinese_by_default_and_english_on_request(empty_client: TestClient) -> None:
    chinese = empty_client.get("/ops")
    assert chinese.status_code == 200
    assert "<h1>城市运营中心</h1>" in chinese.text
    assert "<title>城市运营中心 · 智慧城市平台</title>" in chinese.text
    assert page_config(chinese.text)["locale"] == "zh_CN"
    assert page_config(chinese.text)["text"]["population"] == "登记人口"

    english = empty_client.get("/ops?lang=en")
    assert "<h1>City Operations Centre</h1>" in english.text
    assert "<title>City Operations Centre · Smart City Platform</title>" in english.text
    config = page_config(english.text)
    assert config["locale"] == "en"
    assert config["text"]["population"] == "Registered population"


def test_page_loads_only_local_scripts_and_styles(empty_client: TestClient) -> None:
    html = empty_client.get("/ops").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert source.startswith(("/", "?", "#")), source


def test_root_redirects_to_the_operations_centre(empty_client: TestClient) -> None:
    response = empty_client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/ops"


def test_operations_is_in_the_navigation(empty_client: TestClient) -> None:
    html = empty_client.get("/ops?lang=en").text
    assert '<a href="/ops" aria-current="page">Operations centre</a>' in html


def test_tiny_city_end_to_end(city_client: TestClient) -> None:
    """The real kernel queries over a seeded city: 11 districts, their streets, people."""
    districts = city_client.get("/api/geo/areas?level=district").json()
    assert districts["type"] == "FeatureCollection"
    codes = {feature["properties"]["code"] for feature in districts["features"]}
    assert len(codes) == 11
    assert "440106" in codes
    first = districts["features"][0]
    assert first["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert {"code", "name", "name_en", "area_km2"} <= set(first["properties"])

    streets = city_client.get("/api/geo/areas?level=street").json()["features"]
    assert streets
    tianhe_streets = city_client.get("/api/geo/areas?level=street&parent=440106").json()
    assert tianhe_streets["features"]
    assert all(
        feature["properties"]["parent_code"] == "440106" for feature in tianhe_streets["features"]
    )

    population = city_client.get("/api/stats/population-by-district").json()
    assert [row["code"] for row in population] == sorted(codes)
    assert all(row["population"] > 0 for row in population)
    assert sum(row["population"] for row in population) == 2000 + DEMO_PEOPLE
    tianhe = next(row for row in population if row["code"] == "440106")
    assert (tianhe["name"], tianhe["name_en"]) == ("天河区", "Tianhe")
