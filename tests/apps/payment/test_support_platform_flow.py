"""Issue 4's "done when", end to end through the API only.

A citizen and an enterprise register, get a certificate, sign in with it, receive an
e-bill, pay it, get a signed receipt that openssl verifies, and find the notifications
in their inbox. The bank is the tests' stand-in (callbacks sent by the test).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from smartcity.apps.payment.actions import issue_pending_receipts
from smartcity.kernel.identity.principal import Principal
from tests.api.identity.certificates_helpers import (
    bearer,
    certificate_grant,
    challenge,
    request_certificate,
)
from tests.apps.payment.conftest import (
    CITIZEN_ID,
    ENTERPRISE_USCC,
    REPRESENTATIVE_ID,
    PaymentWorld,
)

PASSWORD = "correct horse battery"


def _password_token(world: PaymentWorld, username: str) -> str:
    answer = world.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _certificate_sign_in(world: PaymentWorld, password_token: str) -> str:
    """Get a (free, first) certificate and sign in with it; the certificate session's token."""
    key = ec.generate_private_key(ec.SECP256R1())
    issued = request_certificate(world.client, password_token, key)
    assert issued.status_code == 201, issued.text
    assert issued.json()["feeFen"] == 0
    granted = certificate_grant(
        world.client, issued.json()["certificate"], key, challenge(world.client)
    )
    assert granted.status_code == 200, granted.text
    token: str = granted.json()["access_token"]
    return token


def _pay_and_get_receipt(
    world: PaymentWorld, token: str, payer: Principal, kind: str, identifier: str, tmp: Path
) -> dict[str, Any]:
    bill = world.issue(number=f"E-{identifier[-6:]}", payer=identifier, kind=kind, amount=8800)
    headers = bearer(token)
    mine = world.client.get("/payment/bills", headers=headers).json()
    assert [b["id"] for b in mine] == [bill["id"]]
    top_up = world.client.post(
        "/payment/wallet/top-ups", json={"request_id": "t-1", "amount_fen": 10_000}, headers=headers
    )
    assert top_up.status_code == 200, top_up.text
    confirmed = world.callback(f"P{top_up.json()['id']:012d}", "confirmed")
    assert confirmed.status_code == 200  # type: ignore[attr-defined]
    paid = world.client.post(
        f"/payment/bills/{bill['id']}/pay", json={"request_id": "pay-1"}, headers=headers
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "confirmed"
    assert world.client.get("/payment/wallet", headers=headers).json()["balance_fen"] == 1200
    assert issue_pending_receipts(world.platform) >= 1
    document = world.client.get(f"/payment/bills/{bill['id']}/receipt.json", headers=headers)
    signature = world.client.get(f"/payment/bills/{bill['id']}/receipt.p7s", headers=headers)
    assert document.status_code == 200 and signature.status_code == 200
    if shutil.which("openssl"):
        root = world.client.get("/pki/root.pem")
        assert root.status_code == 200
        (tmp / "receipt.json").write_bytes(document.content)
        (tmp / "receipt.p7s").write_bytes(signature.content)
        (tmp / "root.pem").write_bytes(root.content)
        checked = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any",
             "-in", str(tmp / "receipt.p7s"), "-content", str(tmp / "receipt.json"),
             "-CAfile", str(tmp / "root.pem"), "-out", "/dev/null"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr
    inbox = world.client.get("/notify/inbox", headers=headers).json()
    templates = {message["template"] for message in inbox["messages"]}
    assert "bill_issued" in templates
    assert templates & {"receipt_ready", "payment_received"}
    return {"bill": bill, "templates": templates}


def test_citizen_registers_gets_a_certificate_signs_in_and_pays_an_e_bill(
    world: PaymentWorld, tmp_path: Path
) -> None:
    registered = world.client.post(
        "/auth/register/citizen",
        json={"national_id": CITIZEN_ID, "name": "陈小明", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    token = _certificate_sign_in(world, _password_token(world, CITIZEN_ID))
    principal = world.platform.tokens.verify(token, world.clock.now())
    assert principal.method == "certificate" and principal.subject == CITIZEN_ID
    _pay_and_get_receipt(world, token, principal, "citizen", CITIZEN_ID, tmp_path)


def test_enterprise_registers_gets_a_certificate_signs_in_and_pays_an_e_bill(
    world: PaymentWorld, tmp_path: Path
) -> None:
    registered = world.client.post(
        "/auth/register/citizen",
        json={"national_id": REPRESENTATIVE_ID, "name": "王强", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    representative = _password_token(world, REPRESENTATIVE_ID)
    enterprise = world.client.post(
        "/auth/register/enterprise",
        json={"uscc": ENTERPRISE_USCC, "password": PASSWORD},
        headers=bearer(representative),
    )
    assert enterprise.status_code == 201, enterprise.text
    token = _certificate_sign_in(world, _password_token(world, ENTERPRISE_USCC))
    principal = world.platform.tokens.verify(token, world.clock.now())
    assert principal.method == "certificate" and principal.subject == ENTERPRISE_USCC
    _pay_and_get_receipt(world, token, principal, "enterprise", ENTERPRISE_USCC, tmp_path)
