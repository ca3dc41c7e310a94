"""Issuing cards, their functions, top-ups and what the holder sees."""

from __future__ import annotations

from typing import Any

from smartcity.apps.card.numbers import is_valid_number
from tests.apps.card.conftest import (
    CARD_OFFICER,
    CITIZEN,
    CITIZEN_ID,
    OTHER_CITIZEN,
    UNREGISTERED_ID,
    CardWorld,
    transit_balance,
)


def test_a_registry_person_gets_a_card_with_eight_functions(world: CardWorld) -> None:
    card = world.issue()
    assert is_valid_number(card["number"])
    assert card["status"] == "active"
    functions = {f["function"]: f["enabled"] for f in card["functions"]}
    assert len(functions) >= 8
    assert all(functions.values())
    assert {"social_security", "medical_insurance", "transit", "identity_check"} <= set(functions)
    assert {p["purse"] for p in card["purses"]} == {"transit", "e_wallet"}


def test_one_current_card_per_person(world: CardWorld) -> None:
    world.issue()
    again = world.client.post(
        "/api/card/cards", json={"national_id": CITIZEN_ID}, headers=world.auth(CARD_OFFICER)
    )
    assert again.status_code == 409


def test_only_registry_people_and_valid_ids(world: CardWorld) -> None:
    headers = world.auth(CARD_OFFICER)
    unknown = world.client.post(
        "/api/card/cards", json={"national_id": UNREGISTERED_ID}, headers=headers
    )
    assert unknown.status_code == 404
    bad = world.client.post(
        "/api/card/cards", json={"national_id": "440106199001011230"}, headers=headers
    )
    assert bad.status_code == 422


def test_citizens_cannot_issue_cards(world: CardWorld) -> None:
    answer = world.client.post(
        "/api/card/cards", json={"national_id": CITIZEN_ID}, headers=world.auth(CITIZEN)
    )
    assert answer.status_code == 403


def test_functions_are_switched_on_and_off(world: CardWorld) -> None:
    world.issue()
    answer = world.client.put(
        "/api/card/mine/functions/library", json={"enabled": False}, headers=world.auth(CITIZEN)
    )
    assert answer.status_code == 200, answer.text
    functions = {f["function"]: f["enabled"] for f in world.mine()["functions"]}
    assert functions["library"] is False
    assert functions["transit"] is True


def test_top_up_moves_money_from_the_wallet_once(world: CardWorld) -> None:
    world.issue()
    world.fund_wallet(CITIZEN_ID, 10_000)
    first = world.top_up(3_000, "top-1")
    assert first.status_code == 200, first.text
    again = world.top_up(3_000, "top-1")
    assert again.json() == first.json()
    assert transit_balance(world.mine()) == 3_000
    other_amount = world.top_up(5_000, "top-1")
    assert other_amount.status_code == 409


def test_top_up_beyond_the_wallet_is_refused(world: CardWorld) -> None:
    world.issue()
    world.fund_wallet(CITIZEN_ID, 1_000)
    answer = world.top_up(5_000)
    assert answer.status_code == 409
    assert transit_balance(world.mine()) == 0


def test_no_card_no_page(world: CardWorld) -> None:
    answer = world.client.get("/api/card/mine", headers=world.auth(OTHER_CITIZEN))
    assert answer.status_code == 404


def test_movements_are_paged_newest_first(world: CardWorld) -> None:
    world.issue()
    world.fund_wallet(CITIZEN_ID, 10_000)
    for i in range(3):
        assert world.top_up(100 + i, f"top-{i}").status_code == 200
    headers = world.auth(CITIZEN)
    page = world.client.get("/api/card/mine/movements?limit=2", headers=headers).json()
    assert [m["amount_fen"] for m in page] == [102, 101]
    rest = world.client.get("/api/card/mine/movements?limit=2&offset=2", headers=headers).json()
    assert [m["kind"] for m in rest] == ["top_up"]


def test_the_card_is_a_section_of_the_citizen_page(world: CardWorld) -> None:
    def section() -> dict[str, Any]:
        me = world.client.get("/api/portal/me", headers=world.auth(CITIZEN))
        assert me.status_code == 200, me.text
        found: dict[str, Any] = {s["name"]: s for s in me.json()["sections"]}["card"]
        return found

    assert section()["available"] is False  # no card yet: said, not faked
    number = world.issue()["number"]
    card = section()
    assert card["available"] is True
    assert card["data"]["number"] == number
    assert card["data"] == world.mine()
