"""Billers issue bills; payers see their own."""

from __future__ import annotations

import pytest

from tests.apps.payment.conftest import (
    CITIZEN,
    CITIZEN_ID,
    ENTERPRISE,
    ENTERPRISE_USCC,
    OTHER_CITIZEN,
    POWER_SYSTEM,
    WATER_STAFF,
    PaymentWorld,
)


def test_billers_are_seeded(world: PaymentWorld) -> None:
    answer = world.client.get("/payment/billers", headers=world.auth(CITIZEN))
    codes = {b["code"] for b in answer.json()}
    assert codes == {
        "electricity", "water", "gas", "telecom", "medical_insurance", "traffic_fines", "taxes"
    }  # fmt: skip


def test_issue_bill_and_payer_sees_it(world: PaymentWorld) -> None:
    bill = world.issue()
    assert bill["status"] == "open"
    assert bill["amount_fen"] == 12345
    mine = world.client.get("/payment/bills", headers=world.auth(CITIZEN)).json()
    assert [b["id"] for b in mine] == [bill["id"]]
    others = world.client.get("/payment/bills", headers=world.auth(OTHER_CITIZEN)).json()
    assert others == []
    one = world.client.get(f"/payment/bills/{bill['id']}", headers=world.auth(OTHER_CITIZEN))
    assert one.status_code == 404


def test_issuing_again_is_a_retry_and_other_details_conflict(world: PaymentWorld) -> None:
    first = world.issue()
    again = world.client.post(
        "/payment/billers/electricity/bills",
        json={
            "bill_number": "E-0001", "payer_kind": "citizen", "payer_identifier": CITIZEN_ID,
            "amount_fen": 12345, "period": "2026-10", "due_date": "2026-12-15",
            "reference": "M-889",
        },
        headers=world.auth(POWER_SYSTEM),
    )  # fmt: skip
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    changed = world.client.post(
        "/payment/billers/electricity/bills",
        json={
            "bill_number": "E-0001", "payer_kind": "citizen", "payer_identifier": CITIZEN_ID,
            "amount_fen": 99999, "period": "2026-10", "due_date": "2026-12-15",
        },
        headers=world.auth(POWER_SYSTEM),
    )  # fmt: skip
    assert changed.status_code == 409


def test_enterprise_bill(world: PaymentWorld) -> None:
    bill = world.issue(WATER_STAFF, "water", payer=ENTERPRISE_USCC, kind="enterprise")
    mine = world.client.get("/payment/bills", headers=world.auth(ENTERPRISE)).json()
    assert [b["id"] for b in mine] == [bill["id"]]


@pytest.mark.parametrize(
    ("principal", "biller"),
    [(WATER_STAFF, "electricity"), (CITIZEN, "electricity"), (POWER_SYSTEM, "water")],
)
def test_only_the_billers_department_issues(
    world: PaymentWorld, principal: object, biller: str
) -> None:
    answer = world.client.post(
        f"/payment/billers/{biller}/bills",
        json={
            "bill_number": "X-1", "payer_kind": "citizen", "payer_identifier": CITIZEN_ID,
            "amount_fen": 100, "period": "2026-10", "due_date": "2026-12-15",
        },
        headers=world.auth(principal),  # type: ignore[arg-type]
    )  # fmt: skip
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_fen", 0),
        ("amount_fen", -5),
        ("amount_fen", 2**63),
        ("amount_fen", 10**30),
        ("payer_identifier", "440106199001011230"),  # bad check character
        ("bill_number", ""),
        ("due_date", "2026-02-30"),
    ],
)
def test_bad_bills_are_422(world: PaymentWorld, field: str, value: object) -> None:
    body: dict[str, object] = {
        "bill_number": "E-9", "payer_kind": "citizen", "payer_identifier": CITIZEN_ID,
        "amount_fen": 100, "period": "2026-10", "due_date": "2026-12-15",
    }  # fmt: skip
    body[field] = value
    answer = world.client.post(
        "/payment/billers/electricity/bills", json=body, headers=world.auth(POWER_SYSTEM)
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_unknown_payer_and_biller_are_404(world: PaymentWorld) -> None:
    from datetime import date

    from smartcity.kernel.identity import make_citizen_id

    stranger = make_citizen_id("440106", date(2000, 2, 2), 5).text
    answer = world.client.post(
        "/payment/billers/electricity/bills",
        json={
            "bill_number": "E-8", "payer_kind": "citizen", "payer_identifier": stranger,
            "amount_fen": 100, "period": "2026-10", "due_date": "2026-12-15",
        },
        headers=world.auth(POWER_SYSTEM),
    )  # fmt: skip
    assert answer.status_code == 404
    missing = world.client.post(
        "/payment/billers/nowhere/bills",
        json={
            "bill_number": "E-8", "payer_kind": "citizen", "payer_identifier": CITIZEN_ID,
            "amount_fen": 100, "period": "2026-10", "due_date": "2026-12-15",
        },
        headers=world.auth(POWER_SYSTEM),
    )  # fmt: skip
    assert missing.status_code == 404


def test_paperless_preference(world: PaymentWorld) -> None:
    headers = world.auth(CITIZEN)
    assert world.client.get("/payment/preferences", headers=headers).json()["paperless"] is True
    changed = world.client.put("/payment/preferences", json={"paperless": False}, headers=headers)
    assert changed.json()["paperless"] is False
    assert world.client.get("/payment/preferences", headers=headers).json()["paperless"] is False


def test_signing_in_is_required(world: PaymentWorld) -> None:
    assert world.client.get("/payment/bills").status_code == 401
