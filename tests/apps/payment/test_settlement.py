"""Daily settlement to the billers and the reconciliation report that balances to the fen."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from smartcity.apps.payment.actions import settle_day
from smartcity.kernel.errors import DomainError
from smartcity.kernel.ledger import verify_ledger
from tests.apps.payment.conftest import CITIZEN, SUPERVISOR, WATER_STAFF, PaymentWorld

DAY = date(2026, 11, 21)  # the fixed clock is 2026-11-21 09:00 UTC = 17:00 in Guangzhou


def _paid_day(world: PaymentWorld) -> None:
    world.top_up(CITIZEN, 100_000)
    for index, amount in enumerate((1_01, 20_00, 333_33)):
        bill = world.issue(number=f"E-{index}", amount=amount)
        answer = world.client.post(
            f"/payment/bills/{bill['id']}/pay",
            json={"request_id": f"w-{index}", "method": "wallet"},
            headers=world.auth(CITIZEN),
        )
        assert answer.status_code == 200
    water = world.issue(WATER_STAFF, "water", number="W-1", amount=45_67)
    order = world.client.post(
        f"/payment/bills/{water['id']}/pay",
        json={"request_id": "b-1", "method": "bank"},
        headers=world.auth(CITIZEN),
    ).json()
    world.callback(f"P{order['id']:012d}", "confirmed")


def _report(world: PaymentWorld, day: date = DAY) -> dict[str, object]:
    answer = world.client.get(
        f"/payment/reconciliation?date={day.isoformat()}", headers=world.auth(SUPERVISOR)
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_reconciliation_balances_before_and_after_settlement(world: PaymentWorld) -> None:
    _paid_day(world)
    report = _report(world)
    assert report["balanced"] is True
    assert report["bills_paid"] == 4
    assert report["amount_fen"] == 1_01 + 20_00 + 333_33 + 45_67
    lines = {line["biller_code"]: line for line in report["billers"]}  # type: ignore[attr-defined]
    assert lines["electricity"]["wallet_payments"] == 3
    assert lines["water"]["bank_payments"] == 1
    assert lines["water"]["ledger_amount_fen"] == 45_67
    assert not lines["electricity"]["settled"]

    # The day has not ended in Guangzhou yet: settling it now would miss later payments.
    early = world.client.post(f"/payment/settlements?date={DAY}", headers=world.auth(SUPERVISOR))
    assert early.status_code == 422
    world.clock.advance(timedelta(hours=8))
    settled = world.client.post(f"/payment/settlements?date={DAY}", headers=world.auth(SUPERVISOR))
    assert settled.status_code == 200, settled.text
    assert {s["biller_code"]: s["amount_fen"] for s in settled.json()} == {
        "electricity": 1_01 + 20_00 + 333_33,
        "water": 45_67,
    }
    assert settle_day(world.platform, DAY) == []  # again: nothing more to settle
    after = _report(world)
    assert after["balanced"] is True
    assert after["settlement_amount_fen"] == after["amount_fen"]
    with world.platform.store.connect() as conn:
        assert verify_ledger(conn).ok


def test_reconciliation_is_for_supervisors(world: PaymentWorld) -> None:
    answer = world.client.get(f"/payment/reconciliation?date={DAY}", headers=world.auth(CITIZEN))
    assert answer.status_code == 403
    staff = world.client.get(f"/payment/reconciliation?date={DAY}", headers=world.auth(WATER_STAFF))
    assert staff.status_code == 403
    bad = world.client.get(
        "/payment/reconciliation?date=2026-13-01", headers=world.auth(SUPERVISOR)
    )
    assert bad.status_code == 422


def test_receipt_of_a_paid_bill(world: PaymentWorld) -> None:
    world.top_up(CITIZEN, 10_000)
    bill = world.issue(amount=12_34)
    unpaid = world.client.get(f"/payment/bills/{bill['id']}/receipt", headers=world.auth(CITIZEN))
    assert unpaid.status_code == 404
    world.client.post(
        f"/payment/bills/{bill['id']}/pay",
        json={"request_id": "r-1"},
        headers=world.auth(CITIZEN),
    )
    answer = world.client.get(f"/payment/bills/{bill['id']}/receipt", headers=world.auth(CITIZEN))
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert receipt["document"]["amount_fen"] == 12_34
    assert receipt["document"]["amount_yuan"] == "12.34"
    assert receipt["document"]["payer"]["identifier"] == bill["payer_identifier"]
    raw = world.client.get(f"/payment/bills/{bill['id']}/receipt.json", headers=world.auth(CITIZEN))
    assert raw.content.startswith(b"{")
    again = world.client.get(f"/payment/bills/{bill['id']}/receipt", headers=world.auth(CITIZEN))
    assert again.json()["number"] == receipt["number"]


def test_receipts_in_a_batch_skip_top_ups_and_issued_ones(world: PaymentWorld) -> None:
    from smartcity.apps.payment.actions import issue_pending_receipts, issue_receipt, issue_receipts

    world.top_up(CITIZEN, 10_000)
    orders = []
    for index in range(3):
        bill = world.issue(number=f"E-r{index}", amount=100 + index)
        answer = world.client.post(
            f"/payment/bills/{bill['id']}/pay",
            json={"request_id": f"rb-{index}"},
            headers=world.auth(CITIZEN),
        )
        orders.append(answer.json()["id"])
    issue_receipt(world.platform, orders[0])
    top_up_order = 1
    assert issue_receipts(world.platform, [top_up_order, *orders, 999]) == 2
    assert issue_receipts(world.platform, orders) == 0
    assert issue_pending_receipts(world.platform) == 0


def test_receipt_signature_verifies_with_the_platform_and_openssl(
    world: PaymentWorld, tmp_path: Path
) -> None:
    from smartcity.apps.payment.actions import runtime_of
    from smartcity.apps.payment.signing import PLATFORM_HOLDER, PlatformReceiptSigner
    from smartcity.kernel.identity.certificates import verify_document_signature

    world.top_up(CITIZEN, 10_000)
    bill = world.issue(amount=5_00)
    world.client.post(
        f"/payment/bills/{bill['id']}/pay",
        json={"request_id": "sig-1"},
        headers=world.auth(CITIZEN),
    )
    view = world.client.get(f"/payment/bills/{bill['id']}/receipt", headers=world.auth(CITIZEN))
    assert view.json()["signed"] is True
    document = world.client.get(
        f"/payment/bills/{bill['id']}/receipt.json", headers=world.auth(CITIZEN)
    ).content
    signature = world.client.get(
        f"/payment/bills/{bill['id']}/receipt.p7s", headers=world.auth(CITIZEN)
    )
    assert signature.headers["content-type"] == "application/pkcs7-signature"
    signer = runtime_of(world.platform).signer
    assert isinstance(signer, PlatformReceiptSigner)
    with world.platform.store.connect() as conn:
        verified = verify_document_signature(
            conn, signer.authority, document, signature.content, now=world.clock.now()
        )
    assert verified.holder.identifier == PLATFORM_HOLDER.identifier
    with world.platform.store.connect() as conn:
        forged = document.replace(b'"amount_fen":500', b'"amount_fen":5')
        with pytest.raises(DomainError):
            verify_document_signature(
                conn, signer.authority, forged, signature.content, now=world.clock.now()
            )
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    chain = world.client.get("/pki/ca.pem").content
    (tmp_path / "receipt.json").write_bytes(document)
    (tmp_path / "receipt.p7s").write_bytes(signature.content)
    (tmp_path / "chain.pem").write_bytes(chain)
    checked = subprocess.run(
        [openssl, "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(tmp_path / "receipt.p7s"), "-content", str(tmp_path / "receipt.json"),
         "-CAfile", str(tmp_path / "chain.pem"), "-purpose", "any", "-out", os.devnull],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
