from datetime import timedelta

from fastapi.testclient import TestClient

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.platform import Platform

OFFICER = Principal(7, AccountKind.STAFF, "GZ-7", "440100-GA", frozenset({"officer"}))


def test_valid_bearer_token_names_the_caller(platform: Platform, client: TestClient) -> None:
    token = platform.tokens.issue(OFFICER, platform.clock.now()).token
    answer = client.get("/probe/whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json() == {"account": 7, "kind": "staff", "roles": ["officer"]}


def test_missing_malformed_or_forged_token_is_a_401_with_a_reason(client: TestClient) -> None:
    missing = client.get("/probe/whoami")
    assert missing.status_code == 401
    assert "sign in" in missing.json()["detail"]
    basic = client.get("/probe/whoami", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401
    forged = client.get("/probe/whoami", headers={"Authorization": "Bearer a.b.c"})
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")


def test_expired_token_is_a_401(platform: Platform, client: TestClient) -> None:
    issued_at = platform.clock.now() - timedelta(hours=1)
    token = platform.tokens.issue(OFFICER, issued_at).token
    answer = client.get("/probe/whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_platform_token_key_is_stable_across_restarts(platform: Platform) -> None:
    again = Platform(
        platform.settings, FixedClock(platform.clock.now()), platform.store, platform.bus
    )
    token = platform.tokens.issue(OFFICER, platform.clock.now()).token
    assert again.tokens.verify(token, platform.clock.now()) == OFFICER
