"""Online tap authorisation: fares, the daily cap, declines, idempotency, tokens."""

from __future__ import annotations

from datetime import timedelta

from tests.apps.card.conftest import (
    BUS,
    CITIZEN,
    CITIZEN_ID,
    GATE,
    CardWorld,
    transit_balance,
)


def _funded(world: CardWorld, amount: int = 5_000) -> str:
    number = str(world.issue()["number"])
    world.fund_wallet(CITIZEN_ID, amount)
    assert world.top_up(amount).status_code == 200
    return number


def test_a_bus_tap_charges_the_flat_fare(world: CardWorld) -> None:
    number = _funded(world)
    answer = world.tap(card_number=number, transaction_id="T1")
    assert answer.status_code == 200, answer.text
    tap = answer.json()
    assert tap["outcome"] == "approved"
    assert tap["charged_fen"] == 200
    assert tap["balance_fen"] == 4_800
    assert transit_balance(world.mine()) == 4_800


def test_a_metro_ride_costs_by_distance(world: CardWorld) -> None:
    number = _funded(world)
    tap = world.tap(
        GATE,
        kind="metro",
        card_number=number,
        transaction_id="M1",
        entry_station="panyu-square",
        exit_station="tiyu-xilu",
    ).json()
    assert tap["fare_fen"] == 700
    assert tap["charged_fen"] == 700


def test_a_shop_charges_the_amount_given(world: CardWorld) -> None:
    number = _funded(world)
    tap = world.tap(kind="shop", card_number=number, transaction_id="S1", amount_fen=1_234).json()
    assert tap["charged_fen"] == 1_234


def test_the_same_transaction_is_charged_once(world: CardWorld) -> None:
    number = _funded(world)
    first = world.tap(card_number=number, transaction_id="T1").json()
    again = world.tap(card_number=number, transaction_id="T1").json()
    assert again["outcome"] == first["outcome"] == "approved"
    assert again["charged_fen"] == 200
    assert transit_balance(world.mine()) == 4_800
    # The same transaction id from another terminal is another tap.
    assert world.tap(GATE, card_number=number, transaction_id="T1").json()["charged_fen"] == 200


def test_transit_fares_stop_at_the_daily_cap(world: CardWorld) -> None:
    number = _funded(world)
    charged = [
        world.tap(
            GATE, kind="metro", card_number=number, transaction_id=f"M{i}", distance_m=30_000
        ).json()["charged_fen"]
        for i in range(4)
    ]
    assert charged == [700, 700, 100, 0]
    # Shops are not transit: never capped.
    shop = world.tap(kind="shop", card_number=number, transaction_id="S1", amount_fen=500).json()
    assert shop["charged_fen"] == 500
    assert world.mine()["spent_today_fen"] == 1_500
    # A new city day, a new cap.
    world.clock.advance(timedelta(days=1))
    assert world.tap(card_number=number, transaction_id="T-next").json()["charged_fen"] == 200


def test_declines_with_reasons(world: CardWorld) -> None:
    number = str(world.issue()["number"])
    poor = world.tap(card_number=number, transaction_id="T1").json()
    assert (poor["outcome"], poor["reason"]) == ("declined", "insufficient_balance")
    unknown = world.tap(card_number="8844000000000000", transaction_id="T2").json()
    assert unknown["reason"] == "unknown_card"
    bad_token = world.tap(token="x" * 43, transaction_id="T3").json()
    assert bad_token["reason"] == "unknown_token"


def test_a_disabled_transit_function_declines(world: CardWorld) -> None:
    number = _funded(world)
    world.client.put(
        "/api/card/mine/functions/transit", json={"enabled": False}, headers=world.auth(CITIZEN)
    )
    tap = world.tap(card_number=number, transaction_id="T1").json()
    assert tap["reason"] == "function_disabled"


def test_a_phone_token_pays_until_revoked(world: CardWorld) -> None:
    _funded(world)
    issued = world.client.post("/api/card/mine/tokens", headers=world.auth(CITIZEN))
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    assert world.tap(token=token, transaction_id="P1").json()["outcome"] == "approved"
    listed = world.client.get("/api/card/mine/tokens", headers=world.auth(CITIZEN)).json()
    assert listed[0]["token"] is None  # shown once only
    revoked = world.client.delete(
        f"/api/card/mine/tokens/{issued.json()['id']}", headers=world.auth(CITIZEN)
    )
    assert revoked.status_code == 200
    assert world.tap(token=token, transaction_id="P2").json()["reason"] == "token_revoked"


def test_only_terminals_tap(world: CardWorld) -> None:
    number = _funded(world)
    answer = world.client.post(
        "/api/card/taps",
        json={"kind": "bus", "card_number": number, "transaction_id": "T1"},
        headers=world.auth(CITIZEN),
    )
    assert answer.status_code == 403


def test_malformed_taps_are_422(world: CardWorld) -> None:
    assert world.tap(transaction_id="T1").status_code == 422  # no card
    assert (
        world.tap(kind="shop", card_number="8844000000000000", transaction_id="T1").status_code
        == 422
    )
    assert (
        world.tap(kind="metro", card_number="8844000000000000", transaction_id="T1").status_code
        == 422
    )


def test_taps_show_in_movements(world: CardWorld) -> None:
    number = _funded(world)
    world.tap(BUS, card_number=number, transaction_id="T1")
    movements = world.client.get("/api/card/mine/movements", headers=world.auth(CITIZEN)).json()
    assert [(m["kind"], m["amount_fen"]) for m in movements] == [("tap", -200), ("top_up", 5_000)]
