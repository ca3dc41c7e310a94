"""Offline terminals upload batches: duplicates ignored, conflicts kept for settlement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.apps.card.conftest import (
    BUS,
    CARD_OFFICER,
    CITIZEN,
    CITIZEN_ID,
    CardWorld,
    transit_balance,
)


def _funded(world: CardWorld, amount: int) -> str:
    number = str(world.issue()["number"])
    world.fund_wallet(CITIZEN_ID, amount)
    assert world.top_up(amount).status_code == 200
    return number


def _upload(world: CardWorld, taps: list[dict[str, Any]]) -> dict[str, Any]:
    answer = world.client.post("/api/card/taps/batch", json={"taps": taps}, headers=world.auth(BUS))
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_batch_is_idempotent_by_transaction(world: CardWorld) -> None:
    number = _funded(world, 1_000)
    at = world.clock.now() - timedelta(hours=1)
    taps = [
        {
            "kind": "bus",
            "card_number": number,
            "transaction_id": f"B{i}",
            "tapped_at": at.isoformat(),
        }
        for i in range(3)
    ]
    first = _upload(world, [*taps, taps[0]])
    assert first == {"received": 4, "approved": 3, "declined": 0, "conflicts": 0, "duplicates": 1}
    again = _upload(world, taps)
    assert again["duplicates"] == 3
    assert again["approved"] == 0
    assert transit_balance(world.mine()) == 400


def test_conflicts_are_recorded_and_listed(world: CardWorld) -> None:
    number = _funded(world, 300)
    before = world.clock.now() - timedelta(minutes=10)
    world.client.post("/api/card/mine/report-loss", json={}, headers=world.auth(CITIZEN))
    after = world.clock.now() + timedelta(minutes=10)
    result = _upload(
        world,
        [
            # Before the loss report: honoured from the balance.
            {
                "kind": "bus",
                "card_number": number,
                "transaction_id": "B1",
                "tapped_at": before.isoformat(),
            },
            # Before the report too, but the purse is dry now.
            {
                "kind": "bus",
                "card_number": number,
                "transaction_id": "B2",
                "tapped_at": before.isoformat(),
            },
            # After the report: a conflict.
            {
                "kind": "bus",
                "card_number": number,
                "transaction_id": "B3",
                "tapped_at": after.isoformat(),
            },
        ],
    )
    assert result["approved"] == 1
    assert result["conflicts"] == 2
    listed = world.client.get("/api/card/conflicts", headers=world.auth(CARD_OFFICER)).json()
    assert [(c["transaction_id"], c["reason"]) for c in listed] == [
        ("B2", "insufficient_balance"),
        ("B3", "card_frozen"),
    ]


def test_a_batch_over_the_limit_is_refused(world: CardWorld) -> None:
    taps = [{"kind": "bus", "card_number": "8844000000000000", "transaction_id": "B1"}] * 100_001
    answer = world.client.post("/api/card/taps/batch", json={"taps": taps}, headers=world.auth(BUS))
    assert answer.status_code in (413, 422)
