"""Wallet payments decided as a group answer exactly as one at a time would."""

from __future__ import annotations

import asyncio

import pytest

from smartcity.apps.payment.actions import runtime_of
from smartcity.apps.payment.group_commit import GroupCommitter, WalletPayment
from smartcity.apps.payment.models import Payer, PayerKind
from smartcity.kernel.errors import Conflict, NotFound
from smartcity.kernel.ledger import verify_ledger
from tests.apps.payment.conftest import CITIZEN, CITIZEN_ID, OTHER_CITIZEN_ID, PaymentWorld


def _group(requests: list[tuple[str, int, str]]) -> list[WalletPayment]:
    loop = asyncio.new_event_loop()
    return [
        WalletPayment(
            Payer(PayerKind.CITIZEN, who, 1), bill, request_id, loop, loop.create_future()
        )
        for who, bill, request_id in requests
    ]


def test_a_group_answers_each_request_alone(world: PaymentWorld) -> None:
    world.top_up(CITIZEN, 1_000)
    cheap = world.issue(number="E-1", amount=300)
    dear = world.issue(number="E-2", amount=900)
    third = world.issue(number="E-3", amount=200)
    committer = GroupCommitter(world.platform)
    group = _group(
        [
            (CITIZEN_ID, int(cheap["id"]), "a"),  # paid
            (CITIZEN_ID, int(cheap["id"]), "a"),  # the same request again: same order
            (CITIZEN_ID, int(cheap["id"]), "b"),  # the same bill again: already paid
            (CITIZEN_ID, int(dear["id"]), "c"),  # 300 + 900 > 1,000: overdrawn
            (OTHER_CITIZEN_ID, int(third["id"]), "d"),  # not theirs
            (CITIZEN_ID, int(third["id"]), "e"),  # paid
            (CITIZEN_ID, 999_999, "f"),  # no such bill
        ]
    )
    outcomes = committer._apply(group)
    assert outcomes[0].order is not None and outcomes[0].order.status == "confirmed"
    assert outcomes[1].order is not None and outcomes[1].order.id == outcomes[0].order.id
    assert isinstance(outcomes[2].error, Conflict)
    assert isinstance(outcomes[3].error, Conflict)
    assert "top it up" in outcomes[3].error.reason
    assert isinstance(outcomes[4].error, NotFound)
    assert outcomes[5].order is not None
    assert isinstance(outcomes[6].error, NotFound)
    assert committer.fallbacks == 0
    wallet = world.client.get("/payment/wallet", headers=world.auth(CITIZEN)).json()
    assert wallet["balance_fen"] == 1_000 - 300 - 200
    # Retried as a group, every paid request answers with its first order.
    again = committer._apply(_group([(CITIZEN_ID, int(cheap["id"]), "a")]))
    assert again[0].order is not None and again[0].order.id == outcomes[0].order.id
    # Written by the group's own statements, read back typed: the same order.
    assert again[0].order == outcomes[0].order
    with world.platform.store.connect() as conn:
        assert verify_ledger(conn).ok


def test_concurrent_http_payments_pay_each_bill_once(world: PaymentWorld) -> None:
    world.top_up(CITIZEN, 100_000)
    bills = [world.issue(number=f"E-{i}", amount=100 + i) for i in range(20)]
    committer = runtime_of(world.platform).committer
    assert committer is not None

    async def storm() -> list[object]:
        calls = [
            committer.pay(Payer(PayerKind.CITIZEN, CITIZEN_ID, 1), int(b["id"]), f"r-{b['id']}")
            for b in bills
        ] + [
            committer.pay(Payer(PayerKind.CITIZEN, CITIZEN_ID, 1), int(b["id"]), f"x-{b['id']}")
            for b in bills
        ]
        return await asyncio.gather(*calls, return_exceptions=True)

    answers = asyncio.run(storm())
    paid = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(paid) == 20
    assert all(isinstance(r, Conflict) for r in refused)
    wallet = world.client.get("/payment/wallet", headers=world.auth(CITIZEN)).json()
    assert wallet["balance_fen"] == 100_000 - sum(100 + i for i in range(20))
    assert committer.fallbacks == 0
    committer.stop()


@pytest.mark.parametrize("method", ["wallet", "bank"])
def test_pay_route_rejects_bad_bill_ids(world: PaymentWorld, method: str) -> None:
    answer = world.client.post(
        "/payment/bills/0/pay",
        json={"request_id": "z", "method": method},
        headers=world.auth(CITIZEN),
    )
    assert answer.status_code == 422
