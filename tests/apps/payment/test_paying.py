"""Paying bills from the wallet and through the bank, with every refusal a payer meets."""

from __future__ import annotations

from datetime import timedelta

import orjson

from smartcity.apps.payment.actions import expire_orders
from smartcity.apps.payment.bank_protocol import signed_headers
from tests.apps.payment.conftest import (
    CITIZEN,
    ENTERPRISE,
    OTHER_CITIZEN,
    WATER_STAFF,
    PaymentWorld,
)


def _pay(
    world: PaymentWorld, bill_id: object, request_id: str, method: str = "wallet", principal=CITIZEN
):  # type: ignore[no-untyped-def]
    return world.client.post(
        f"/payment/bills/{bill_id}/pay",
        json={"request_id": request_id, "method": method},
        headers=world.auth(principal),
    )


def _wallet(world: PaymentWorld, principal=CITIZEN) -> dict[str, int]:  # type: ignore[no-untyped-def]
    answer = world.client.get("/payment/wallet", headers=world.auth(principal))
    result: dict[str, int] = answer.json()
    return result


def test_top_up_then_pay_from_wallet(world: PaymentWorld) -> None:
    bill = world.issue(amount=12345)
    world.top_up(CITIZEN, 50_000)
    assert _wallet(world)["balance_fen"] == 50_000
    paid = _pay(world, bill["id"], "pay-1")
    assert paid.status_code == 200, paid.text
    order = paid.json()
    assert order["status"] == "confirmed"
    assert order["amount_fen"] == 12345
    assert _wallet(world)["balance_fen"] == 50_000 - 12345
    shown = world.client.get(f"/payment/bills/{bill['id']}", headers=world.auth(CITIZEN)).json()
    assert shown["status"] == "paid"
    assert shown["order_id"] == order["id"]
    status = world.client.get(f"/payment/orders/{order['id']}", headers=world.auth(CITIZEN))
    assert status.json()["status"] == "confirmed"
    history = world.client.get("/payment/bills?status=paid", headers=world.auth(CITIZEN)).json()
    assert [b["id"] for b in history] == [bill["id"]]


def test_retry_with_the_same_request_id_pays_once(world: PaymentWorld) -> None:
    bill = world.issue(amount=1000)
    world.top_up(CITIZEN, 5000)
    first = _pay(world, bill["id"], "same").json()
    again = _pay(world, bill["id"], "same")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert _wallet(world)["balance_fen"] == 4000


def test_request_id_reused_for_another_bill_conflicts(world: PaymentWorld) -> None:
    one = world.issue(number="E-1", amount=100)
    two = world.issue(number="E-2", amount=100)
    world.top_up(CITIZEN, 5000)
    assert _pay(world, one["id"], "r").status_code == 200
    assert _pay(world, two["id"], "r").status_code == 409


def test_paying_twice_is_409(world: PaymentWorld) -> None:
    bill = world.issue(amount=100)
    world.top_up(CITIZEN, 5000)
    assert _pay(world, bill["id"], "a").status_code == 200
    second = _pay(world, bill["id"], "b")
    assert second.status_code == 409
    assert "already paid" in second.json()["detail"]
    assert _wallet(world)["balance_fen"] == 4900


def test_paying_anothers_bill_is_404(world: PaymentWorld) -> None:
    bill = world.issue(amount=100)
    world.top_up(OTHER_CITIZEN, 5000)
    assert _pay(world, bill["id"], "x", principal=OTHER_CITIZEN).status_code == 404
    assert _wallet(world, OTHER_CITIZEN)["balance_fen"] == 5000


def test_wallet_never_overdrawn(world: PaymentWorld) -> None:
    bill = world.issue(amount=10_000)
    world.top_up(CITIZEN, 9_999)
    answer = _pay(world, bill["id"], "short")
    assert answer.status_code == 409
    assert "top it up" in answer.json()["detail"]
    assert _wallet(world)["balance_fen"] == 9_999
    shown = world.client.get(f"/payment/bills/{bill['id']}", headers=world.auth(CITIZEN)).json()
    assert shown["status"] == "open"


def test_staff_cannot_pay(world: PaymentWorld) -> None:
    bill = world.issue(amount=100)
    assert _pay(world, bill["id"], "s", principal=WATER_STAFF).status_code == 403


def test_bad_request_ids_and_methods_are_422(world: PaymentWorld) -> None:
    bill = world.issue(amount=100)
    assert _pay(world, bill["id"], "").status_code == 422
    assert _pay(world, bill["id"], "x" * 65).status_code == 422
    assert _pay(world, bill["id"], "ok", method="cash").status_code == 422
    top = world.client.post(
        "/payment/wallet/top-ups",
        json={"request_id": "t", "amount_fen": 0},
        headers=world.auth(CITIZEN),
    )
    assert top.status_code == 422


def test_bank_payment_pending_then_confirmed(world: PaymentWorld) -> None:
    bill = world.issue(amount=2500)
    answer = _pay(world, bill["id"], "bank-1", method="bank")
    assert answer.status_code == 200, answer.text
    order = answer.json()
    assert order["status"] == "pending"
    assert order["bank_pay_url"].startswith("http://bank.test/pay/")
    shown = world.client.get(f"/payment/bills/{bill['id']}", headers=world.auth(CITIZEN)).json()
    assert shown["status"] == "pending"
    # While the bank payment is under way, a wallet payment of the same bill is refused.
    world.top_up(CITIZEN, 5000)
    assert _pay(world, bill["id"], "wallet-too").status_code == 409
    number = f"P{order['id']:012d}"
    confirmed = world.callback(number, "confirmed")
    assert confirmed.status_code == 200  # type: ignore[attr-defined]
    assert confirmed.json()["status"] == "confirmed"  # type: ignore[attr-defined]
    shown = world.client.get(f"/payment/bills/{bill['id']}", headers=world.auth(CITIZEN)).json()
    assert shown["status"] == "paid"
    # A replayed callback changes nothing and says so.
    replay = world.callback(number, "confirmed")
    assert replay.status_code == 200  # type: ignore[attr-defined]
    contradicting = world.callback(number, "failed")
    assert contradicting.status_code == 409  # type: ignore[attr-defined]


def test_bank_payment_refused_opens_the_bill_again(world: PaymentWorld) -> None:
    bill = world.issue(amount=2500)
    order = _pay(world, bill["id"], "bank-2", method="bank").json()
    failed = world.callback(f"P{order['id']:012d}", "failed")
    assert failed.json()["status"] == "failed"  # type: ignore[attr-defined]
    shown = world.client.get(f"/payment/bills/{bill['id']}", headers=world.auth(CITIZEN)).json()
    assert shown["status"] == "open"
    world.top_up(CITIZEN, 5000)
    assert _pay(world, bill["id"], "wallet-after").status_code == 200


def test_forged_and_malformed_callbacks_are_refused(world: PaymentWorld) -> None:
    bill = world.issue(amount=2500)
    order = _pay(world, bill["id"], "bank-3", method="bank").json()
    number = f"P{order['id']:012d}"
    body = orjson.dumps(
        {"order_number": number, "bank_reference": "B1", "status": "confirmed", "amount_fen": 2500}
    )
    forged = signed_headers(b"not the shared secret at all", body, 1)
    answer = world.client.post("/payment/bank/callback", content=body, headers=forged)
    assert answer.status_code == 401
    unsigned = world.client.post("/payment/bank/callback", content=body)
    assert unsigned.status_code == 401
    wrong_amount = world.callback(number, "confirmed", amount_fen=1)
    assert wrong_amount.status_code == 409  # type: ignore[attr-defined]
    shown = world.client.get(f"/payment/orders/{order['id']}", headers=world.auth(CITIZEN))
    assert shown.json()["status"] == "pending"


def test_expired_bank_order_is_voided_and_late_confirmation_refused(world: PaymentWorld) -> None:
    bill = world.issue(amount=2500)
    order = _pay(world, bill["id"], "bank-4", method="bank").json()
    world.clock.advance(timedelta(minutes=16))
    assert expire_orders(world.platform) == 1
    shown = world.client.get(f"/payment/orders/{order['id']}", headers=world.auth(CITIZEN))
    assert shown.json()["status"] == "expired"
    late = world.callback(f"P{order['id']:012d}", "confirmed")
    assert late.status_code == 409  # type: ignore[attr-defined]
    bill_now = world.client.get(f"/payment/bills/{bill['id']}", headers=world.auth(CITIZEN))
    assert bill_now.json()["status"] == "open"


def test_late_confirmation_before_the_expiry_job_is_refused(world: PaymentWorld) -> None:
    bill = world.issue(amount=2500)
    order = _pay(world, bill["id"], "bank-5", method="bank").json()
    world.clock.advance(timedelta(minutes=16))
    late = world.callback(f"P{order['id']:012d}", "confirmed")
    assert late.status_code == 409  # type: ignore[attr-defined]
    shown = world.client.get(f"/payment/orders/{order['id']}", headers=world.auth(CITIZEN))
    assert shown.json()["status"] == "expired"


def test_bank_down_is_503_and_retry_goes_through(world: PaymentWorld) -> None:
    bill = world.issue(amount=2500)
    world.bank.refuse = True
    down = _pay(world, bill["id"], "bank-6", method="bank")
    assert down.status_code == 503
    world.bank.refuse = False
    again = _pay(world, bill["id"], "bank-6", method="bank")
    assert again.status_code == 200
    assert again.json()["bank_reference"] is not None


def test_enterprise_pays_its_bill(world: PaymentWorld) -> None:
    from tests.apps.payment.conftest import ENTERPRISE_USCC

    bill = world.issue(WATER_STAFF, "water", payer=ENTERPRISE_USCC, kind="enterprise", amount=700)
    world.top_up(ENTERPRISE, 1000)
    assert _pay(world, bill["id"], "e-1", principal=ENTERPRISE).status_code == 200
    assert _wallet(world, ENTERPRISE)["balance_fen"] == 300


def test_an_expired_bank_payment_does_not_block_paying_from_the_wallet(world: PaymentWorld) -> None:
    bill = world.issue(amount=2500)
    world.top_up(CITIZEN, 5000)
    _pay(world, bill["id"], "bank-7", method="bank")
    assert _pay(world, bill["id"], "wallet-early").status_code == 409
    world.clock.advance(timedelta(minutes=16))
    # No expiry job has run: paying closes the stale bank order first.
    paid = _pay(world, bill["id"], "wallet-late")
    assert paid.status_code == 200, paid.text
    assert _wallet(world)["balance_fen"] == 2500
    from smartcity.kernel.ledger import verify_ledger

    with world.platform.store.connect() as conn:
        assert verify_ledger(conn).ok
