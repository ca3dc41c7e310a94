"""Payers with a platform account hear about their bills, payments and receipts."""

from __future__ import annotations

from argon2 import PasswordHasher

from smartcity.apps.payment.actions import issue_pending_receipts
from smartcity.kernel.identity.accounts import register_citizen_account
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.notify.queries import list_inbox
from tests.apps.payment.conftest import CITIZEN_ID, PaymentWorld


def test_bill_payment_and_receipt_are_announced(world: PaymentWorld) -> None:
    account = register_citizen_account(
        world.platform.store,
        world.clock,
        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        national_id=CITIZEN_ID,
        name="陈小明",
        password="a long enough password",
    )
    me = Principal(account.id, AccountKind.CITIZEN, CITIZEN_ID)
    bill = world.issue(amount=12_34)
    world.top_up(me, 10_000)
    paid = world.client.post(
        f"/payment/bills/{bill['id']}/pay", json={"request_id": "n-1"}, headers=world.auth(me)
    )
    assert paid.status_code == 200
    issue_pending_receipts(world.platform)
    with world.platform.store.connect() as conn:
        inbox = list_inbox(conn, account.id, limit=10)
    templates = [m.template for m in inbox.messages]
    assert sorted(templates) == ["bill_issued", "payment_received", "receipt_ready"]
    # the bill, the top-up's arrival, the paid bill's receipt (which names the payment)
    bill_notice = next(m for m in inbox.messages if m.template == "bill_issued")
    assert "12.34" in bill_notice.title
