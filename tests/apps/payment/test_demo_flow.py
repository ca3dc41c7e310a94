"""The documented flow (docs/apps/payment.md) with the demo accounts of a seeded city."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.apps.payment.actions import issue_pending_receipts
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from smartcity.sim.accounts import DEMO_PASSWORD
from tests.apps.payment.conftest import CA_PASSPHRASE

CITIZEN = "440106198506159919"


def _token(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post(
        "/auth/token",
        data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def test_documented_flow_with_demo_accounts(store: Store, tmp_path: Path) -> None:
    from smartcity.sim.city import seed_city
    from smartcity.sim.profiles import TINY
    from smartcity.sim.progress import SilentProgress

    seed_city(store, profile=TINY, seed=3, progress=SilentProgress())
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase=CA_PASSPHRASE),
        apps=installed_apps(),
        store=store,
        migrate=False,
    )
    with TestClient(create_app(platform)) as client:
        citizen = _token(client, CITIZEN)
        biller = _token(client, "GZ-BGT-9001")
        supervisor = _token(client, "GZ-GAJ-9003")
        bill = client.post(
            "/payment/billers/electricity/bills",
            json={
                "bill_number": "E-2026-10-000123", "payer_kind": "citizen",
                "payer_identifier": CITIZEN, "amount_fen": 12345, "period": "2026-10",
                "due_date": "2026-12-15", "reference": "M-889",
            },
            headers=biller,
        )  # fmt: skip
        assert bill.status_code == 201, bill.text
        mine = client.get("/payment/bills", headers=citizen).json()
        assert [b["bill_number"] for b in mine] == ["E-2026-10-000123"]
        # The wallet is empty: paying is refused with a clear reason.
        empty = client.post(
            f"/payment/bills/{bill.json()['id']}/pay",
            json={"request_id": "demo-1"},
            headers=citizen,
        )
        assert empty.status_code == 409
        report = client.get("/payment/reconciliation?date=2026-11-20", headers=supervisor)
        assert report.status_code == 200, report.text
        assert report.json()["balanced"] is True
        inbox = client.get("/notify/inbox", headers=citizen).json()
        assert any(m["template"] == "bill_issued" for m in inbox["messages"])
        assert issue_pending_receipts(platform) == 0
