"""The citizen's profile: registry facts, masked, and what the citizen edits."""

from __future__ import annotations

from tests.apps.portal.conftest import (
    CITIZEN_ID,
    INSPECTOR,
    OTHER,
    UNREGISTERED,
    PortalWorld,
)


def test_profile_shows_the_registry_with_the_id_masked(world: PortalWorld) -> None:
    answer = world.get("/api/portal/profile")
    assert answer.status_code == 200, answer.text
    profile = answer.json()
    assert profile["name"] == "陈小明"
    assert profile["national_id_masked"] == CITIZEN_ID[:6] + "********" + CITIZEN_ID[-4:]
    assert CITIZEN_ID not in answer.text
    assert profile["age"] == 36
    assert profile["gender"] in ("F", "M")
    assert profile["community"]["code"] == "440106001002"
    assert profile["district"]["code"] == "440106"
    assert profile["occupation"] == {
        "value": "软件工程师",
        "registry": "软件工程师",
        "corrected": False,
    }
    assert profile["interests"] == []
    assert profile["contact"] == {"channels": ["inbox"], "receive_notices": True}
    assert profile["updated_at"] is None
    members = [(m["name"], m["age"]) for m in profile["household"]]
    assert members == [("林小红", 35), ("陈豆豆", 3)]


def test_household_is_only_ones_own(world: PortalWorld) -> None:
    profile = world.get("/api/portal/profile", OTHER).json()
    assert profile["name"] == "李华"
    assert profile["household"] == []


def test_citizen_edits_occupation_interests_and_contact(world: PortalWorld) -> None:
    answer = world.send(
        "PUT",
        "/api/portal/profile",
        json={
            "occupation": "  产品 经理 ",
            "interests": ["technology", "sport", "sport"],
            "contact": {"channels": ["sms"], "receive_notices": False},
        },
    )
    assert answer.status_code == 200, answer.text
    profile = answer.json()
    assert profile["occupation"] == {
        "value": "产品 经理",
        "registry": "软件工程师",
        "corrected": True,
    }
    assert [i["code"] for i in profile["interests"]] == ["sport", "technology"]
    assert profile["interests"][0]["label_zh"] == "体育健身"
    assert profile["contact"] == {"channels": ["inbox", "sms"], "receive_notices": False}
    assert profile["updated_at"] is not None

    # Omitted fields stay; null occupation goes back to the registry's.
    again = world.send("PUT", "/api/portal/profile", json={"occupation": None}).json()
    assert again["occupation"]["value"] == "软件工程师"
    assert again["occupation"]["corrected"] is False
    assert [i["code"] for i in again["interests"]] == ["sport", "technology"]
    assert world.get("/api/portal/profile").json() == again


def test_bad_edits_are_422_with_reasons(world: PortalWorld) -> None:
    cases = [
        ({"interests": ["sport", "knitting"]}, "knitting"),
        ({"interests": None}, "interests"),
        ({"occupation": "   "}, "occupation"),
        ({"occupation": "x" * 40}, "occupation"),
        ({"contact": {"channels": ["pigeon"]}}, "channels"),
        ({"nickname": "小明"}, "nickname"),
        ({"interests": "sport"}, "interests"),
    ]
    for body, mentioned in cases:
        answer = world.send("PUT", "/api/portal/profile", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert mentioned in answer.text, (body, answer.text)
    assert world.get("/api/portal/profile").json()["updated_at"] is None


def test_too_many_interests_are_refused(world: PortalWorld) -> None:
    codes = [i["code"] for i in world.get("/api/portal/interests", None).json()]
    answer = world.send("PUT", "/api/portal/profile", json={"interests": codes})
    assert answer.status_code == 422
    assert "at most" in answer.json()["detail"]


def test_interest_vocabulary_is_public_and_bilingual(world: PortalWorld) -> None:
    answer = world.get("/api/portal/interests", None)
    assert answer.status_code == 200
    codes = {item["code"]: item for item in answer.json()}
    assert {"sport", "culture", "education", "health", "elderly_care", "childcare"} <= set(codes)
    assert codes["elderly_care"]["label_en"] == "Elderly care"


def test_who_may_see_a_profile(world: PortalWorld) -> None:
    assert world.get("/api/portal/profile", None).status_code == 401
    assert world.get("/api/portal/profile", INSPECTOR).status_code == 403
    assert world.get("/api/portal/profile", UNREGISTERED).status_code == 404
