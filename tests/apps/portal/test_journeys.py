"""Scenario journeys: the shipped catalogue, personalisation and progress."""

from __future__ import annotations

import pytest

from smartcity.apps.portal.journeys import catalogue, parse_catalogue
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.identity.departments import DEPARTMENTS
from tests.apps.portal.conftest import OTHER, POWER_SYSTEM, PortalWorld


def test_catalogue_names_real_departments_and_known_documents() -> None:
    codes = {department.code for department in DEPARTMENTS}
    journeys = catalogue().journeys
    assert {j.slug for j in journeys} >= {
        "having-a-baby",
        "starting-a-business",
        "moving-house",
        "retirement",
    }
    for journey in journeys:
        assert journey.title_zh and journey.title_en
        for step in journey.steps:
            assert step.department in codes, (journey.slug, step.slug)
            assert step.documents


def test_a_broken_catalogue_is_refused() -> None:
    step = {"slug": "a", "title_zh": "甲", "title_en": "A", "department": "GZ-GAJ", "service": "x"}
    journey = {"slug": "j", "title_zh": "", "title_en": "", "summary_zh": "", "summary_en": ""}
    with pytest.raises(ConfigurationError, match="unknown documents"):
        parse_catalogue({"journey": [{**journey, "step": [{**step, "documents": ["visa"]}]}]})
    with pytest.raises(ConfigurationError, match="repeated"):
        parse_catalogue({"journey": [{**journey, "step": [step, step]}]})
    with pytest.raises(ConfigurationError, match="share a slug"):
        parse_catalogue({"journey": [{**journey, "step": [step]}] * 2})
    with pytest.raises(ConfigurationError, match="field"):
        parse_catalogue({"journey": [{"slug": "j"}]})


def test_journeys_are_public_guidance(world: PortalWorld) -> None:
    listing = world.get("/api/portal/journeys", None)
    assert listing.status_code == 200
    baby = next(j for j in listing.json() if j["slug"] == "having-a-baby")
    assert baby["title_zh"] == "出生一件事"
    assert baby["steps"] == 5
    detail = world.get("/api/portal/journeys/having-a-baby", None).json()
    assert detail["started"] is None
    first = detail["steps"][0]
    assert first["department"]["code"] == "GZ-WJW"
    assert first["done"] is None
    assert first["documents"][0]["in_storage"] is None
    assert world.get("/api/portal/journeys/no-such-thing", None).status_code == 404
    assert world.get("/api/portal/journeys/Bad_Slug", None).status_code == 422


def test_citizen_starts_a_journey_and_ticks_steps(world: PortalWorld) -> None:
    world.send(
        "POST",
        "/api/portal/documents",
        params={"name": "身份证正反面.pdf"},
        content=b"%PDF-1.4\n%%EOF\n",
    )
    before = world.get("/api/portal/journeys/having-a-baby").json()
    assert before["started"] is False
    assert before["done_steps"] == 0
    id_card = before["steps"][0]["documents"][0]
    assert id_card["kind"] == "id_card"
    assert id_card["in_storage"] is True
    assert len(id_card["document_ids"]) == 1
    marriage = before["steps"][0]["documents"][1]
    assert marriage["in_storage"] is False

    tick = world.send(
        "PUT", "/api/portal/journeys/having-a-baby/steps/birth-certificate", json={"done": True}
    )
    assert tick.status_code == 409

    started = world.send("POST", "/api/portal/journeys/having-a-baby/start")
    assert started.status_code == 201
    assert started.json()["started"] is True
    again = world.send("POST", "/api/portal/journeys/having-a-baby/start")
    assert again.status_code == 200

    tick = world.send(
        "PUT", "/api/portal/journeys/having-a-baby/steps/birth-certificate", json={"done": True}
    )
    assert tick.status_code == 200, tick.text
    view = tick.json()
    assert view["done_steps"] == 1
    assert [s["done"] for s in view["steps"]] == [True, False, False, False, False]

    untick = world.send(
        "PUT", "/api/portal/journeys/having-a-baby/steps/birth-certificate", json={"done": False}
    )
    assert untick.json()["done_steps"] == 0
    # Progress is one's own.
    assert world.get("/api/portal/journeys/having-a-baby", OTHER).json()["started"] is False


def test_bad_step_changes(world: PortalWorld) -> None:
    world.send("POST", "/api/portal/journeys/retirement/start")
    path = "/api/portal/journeys/retirement/steps"
    assert world.send("PUT", f"{path}/no-such-step", json={"done": True}).status_code == 404
    assert world.send("PUT", f"{path}/pension-claim", json={"done": "yes"}).status_code == 422
    assert world.send("PUT", f"{path}/pension-claim", json={}).status_code == 422
    assert world.send("POST", "/api/portal/journeys/retirement/start", None).status_code == 401
    assert (
        world.send("POST", "/api/portal/journeys/retirement/start", POWER_SYSTEM).status_code == 403
    )
