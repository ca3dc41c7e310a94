"""Loss reports freeze at once and feed the deny list; reissue moves the balances."""

from __future__ import annotations

from smartcity.kernel.ledger import verify_ledger
from tests.apps.card.conftest import (
    CARD_OFFICER,
    CITIZEN,
    CITIZEN_ID,
    GATE,
    OTHER_CITIZEN,
    CardWorld,
    transit_balance,
)


def _funded(world: CardWorld, amount: int = 5_000) -> str:
    number = str(world.issue()["number"])
    world.fund_wallet(CITIZEN_ID, amount)
    assert world.top_up(amount).status_code == 200
    return number


def test_a_lost_card_is_declined_at_once_and_denied(world: CardWorld) -> None:
    number = _funded(world)
    reported = world.client.post(
        "/api/card/mine/report-loss", json={"reason": "lost"}, headers=world.auth(CITIZEN)
    )
    assert reported.status_code == 200, reported.text
    assert reported.json()["status"] == "frozen"
    tap = world.tap(card_number=number, transaction_id="T1").json()
    assert (tap["outcome"], tap["reason"]) == ("declined", "card_frozen")
    deny = world.client.get("/api/card/deny-list", headers=world.auth(GATE)).json()
    assert [e["card_number"] for e in deny["entries"]] == [number]
    # Incremental: nothing new since the version the terminal holds.
    later = world.client.get(
        f"/api/card/deny-list?since={deny['version']}", headers=world.auth(GATE)
    ).json()
    assert later == {"version": deny["version"], "entries": []}
    # Reporting again changes nothing.
    world.client.post("/api/card/mine/report-loss", json={}, headers=world.auth(CITIZEN))
    again = world.client.get("/api/card/deny-list", headers=world.auth(GATE)).json()
    assert len(again["entries"]) == 1


def test_staff_report_loss_too(world: CardWorld) -> None:
    number = _funded(world)
    answer = world.client.post(
        f"/api/card/cards/{number}/report-loss", json={}, headers=world.auth(CARD_OFFICER)
    )
    assert answer.json()["status"] == "frozen"


def test_reissue_moves_the_balance_and_retires_the_number(world: CardWorld) -> None:
    old = _funded(world, 5_000)
    world.tap(card_number=old, transaction_id="T1")
    world.client.post("/api/card/mine/report-loss", json={}, headers=world.auth(CITIZEN))
    answer = world.client.post("/api/card/mine/reissue", headers=world.auth(CITIZEN))
    assert answer.status_code == 201, answer.text
    new = answer.json()
    assert new["number"] != old
    assert new["replaces"] == old
    assert transit_balance(new) == 4_800
    mine = world.mine()
    assert mine["number"] == new["number"]
    # The old number is retired for good; the new one pays.
    assert world.tap(card_number=old, transaction_id="T2").json()["reason"] == "card_retired"
    assert world.tap(card_number=new["number"], transaction_id="T3").json()["charged_fen"] == 200
    again = world.client.post(f"/api/card/cards/{old}/reissue", headers=world.auth(CARD_OFFICER))
    assert again.status_code == 409
    kinds = [
        (m["kind"], m["amount_fen"])
        for m in world.client.get("/api/card/mine/movements", headers=world.auth(CITIZEN)).json()
    ]
    assert ("reissue_out", -4_800) in kinds
    assert ("reissue_in", 4_800) in kinds
    with world.platform.store.connect() as conn:
        assert verify_ledger(conn).ok


def test_a_citizen_sees_only_their_card(world: CardWorld) -> None:
    _funded(world)
    answer = world.client.post(
        "/api/card/mine/report-loss", json={}, headers=world.auth(OTHER_CITIZEN)
    )
    assert answer.status_code == 404
    assert world.mine()["status"] == "active"


def test_citizens_do_not_read_the_deny_list(world: CardWorld) -> None:
    answer = world.client.get("/api/card/deny-list", headers=world.auth(CITIZEN))
    assert answer.status_code == 403
