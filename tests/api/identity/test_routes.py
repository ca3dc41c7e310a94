"""Identity and access over HTTP: registration, the token endpoint, TOTP, agents, staff, clients."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from smartcity.kernel import audit
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.accounts import add_staff_account
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.totp import totp
from smartcity.kernel.platform import Platform
from tests.kernel.identity.people import FAST_HASHER, PASSWORD, People


def _token(client: TestClient, **form: str) -> Response:
    return client.post("/auth/token", data=form)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _register_citizen(client: TestClient, national_id: str, name: str) -> Response:
    return client.post(
        "/auth/register/citizen",
        json={"national_id": national_id, "name": name, "password": PASSWORD},
    )


def _sign_in(
    client: TestClient, username: str, password: str = PASSWORD, **extra: str
) -> dict[str, Any]:
    answer = _token(client, grant_type="password", username=username, password=password, **extra)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _staff(platform: Platform, employee_number: str) -> None:
    city = Principal(0, AccountKind.STAFF, "root", "GZ-BGT", frozenset({"administrator"}))
    add_staff_account(
        platform.store,
        platform.clock,
        FAST_HASHER,
        administrator=city,
        employee_number=employee_number,
        password=PASSWORD,
    )


def test_citizen_registers_signs_in_and_sees_who_they_are(
    auth_client: TestClient, people: People
) -> None:
    created = _register_citizen(auth_client, people.agent_id, people.agent_name)
    assert created.status_code == 201
    assert created.json()["kind"] == "citizen"
    tokens = _sign_in(auth_client, people.agent_id)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert tokens["refresh_token"]
    me = auth_client.get("/auth/me", headers=_bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["subject"] == people.agent_id
    assert "enterprise.register" in me.json()["permissions"]


def test_registration_errors_are_clear_4xx(auth_client: TestClient, people: People) -> None:
    wrong_check = people.agent_id[:-1] + ("1" if people.agent_id[-1] != "1" else "2")
    assert _register_citizen(auth_client, wrong_check, people.agent_name).status_code == 422
    unknown = _register_citizen(auth_client, "11010519491231002X", "某人")
    assert unknown.status_code == 404 and "registry" in unknown.json()["detail"]
    mismatch = _register_citizen(auth_client, people.agent_id, "别人")
    assert mismatch.status_code == 422 and "name" in mismatch.json()["detail"]
    weak = auth_client.post(
        "/auth/register/citizen",
        json={"national_id": people.agent_id, "name": people.agent_name, "password": "1234"},
    )
    assert weak.status_code == 422 and weak.json()["code"] == "weak-password"
    assert _register_citizen(auth_client, people.agent_id, people.agent_name).status_code == 201
    duplicate = _register_citizen(auth_client, people.agent_id, people.agent_name)
    assert duplicate.status_code == 409


def test_token_endpoint_errors_follow_rfc_6749(auth_client: TestClient, people: People) -> None:
    _register_citizen(auth_client, people.agent_id, people.agent_name)
    wrong = _token(
        auth_client, grant_type="password", username=people.agent_id, password="nope-nope"
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant" and wrong.json()["error_description"]
    assert wrong.headers["cache-control"] == "no-store"
    unsupported = _token(auth_client, grant_type="implicit")
    assert unsupported.json()["error"] == "unsupported_grant_type"
    missing = _token(auth_client, grant_type="password", username=people.agent_id)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    as_json = auth_client.post("/auth/token", json={"grant_type": "password"})
    assert as_json.json()["error"] == "invalid_request"
    repeated = auth_client.post(
        "/auth/token",
        content="grant_type=password&grant_type=refresh_token",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert "more than once" in repeated.json()["error_description"]
    client = _token(auth_client, grant_type="client_credentials", client_id="x", client_secret="y")
    assert client.status_code == 401 and client.json()["error"] == "invalid_client"


def test_lockout_answers_when_to_retry(
    auth_client: TestClient, people: People, clock: FixedClock
) -> None:
    _register_citizen(auth_client, people.agent_id, people.agent_name)
    for _ in range(5):
        answer = _token(
            auth_client, grant_type="password", username=people.agent_id, password="wrong-password"
        )
    assert answer.status_code == 400
    retry_at = answer.json()["retry_at"]
    assert retry_at == (clock.now() + timedelta(minutes=15)).isoformat().replace("+00:00", "Z")
    assert "Retry-After" in answer.headers and "locked" in answer.json()["error_description"]
    still = _token(auth_client, grant_type="password", username=people.agent_id, password=PASSWORD)
    assert still.status_code == 400 and still.json()["retry_at"] == retry_at
    clock.advance(timedelta(minutes=15))
    _sign_in(auth_client, people.agent_id)


def test_refresh_rotation_reuse_and_revocation(auth_client: TestClient, people: People) -> None:
    _register_citizen(auth_client, people.agent_id, people.agent_name)
    first = _sign_in(auth_client, people.agent_id)
    second = _token(auth_client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    reused = _token(auth_client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.json()["error"] == "invalid_grant"
    dead = _token(
        auth_client, grant_type="refresh_token", refresh_token=second.json()["refresh_token"]
    )
    assert dead.status_code == 400
    third = _sign_in(auth_client, people.agent_id)
    revoked = auth_client.post("/auth/revoke", data={"token": third["refresh_token"]})
    assert revoked.status_code == 200
    unknown = auth_client.post("/auth/revoke", data={"token": "never-issued"})
    assert unknown.status_code == 200  # RFC 7009: no oracle for token existence
    after = _token(auth_client, grant_type="refresh_token", refresh_token=third["refresh_token"])
    assert "revoked" in after.json()["error_description"]


def test_forged_or_expired_tokens_are_401(
    auth_client: TestClient, people: People, clock: FixedClock
) -> None:
    _register_citizen(auth_client, people.agent_id, people.agent_name)
    tokens = _sign_in(auth_client, people.agent_id)
    header, payload, signature = tokens["access_token"].split(".")
    forged = f"{header}.{payload}.{signature[:-2]}AA"
    answer = auth_client.get("/auth/me", headers=_bearer(forged))
    assert answer.status_code == 401 and "signature" in answer.json()["detail"]
    clock.advance(timedelta(minutes=16))
    expired = auth_client.get("/auth/me", headers=_bearer(tokens["access_token"]))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_totp_enrol_confirm_then_required(
    auth_client: TestClient, people: People, clock: FixedClock
) -> None:
    _register_citizen(auth_client, people.agent_id, people.agent_name)
    access = _sign_in(auth_client, people.agent_id)["access_token"]
    enrolment = auth_client.post("/auth/totp/enrol", headers=_bearer(access))
    assert enrolment.status_code == 200
    secret = base64.b32decode(
        enrolment.json()["secret"] + "=" * (-len(enrolment.json()["secret"]) % 8)
    )
    assert enrolment.json()["uri"].startswith("otpauth://totp/")
    wrong = auth_client.post("/auth/totp/confirm", json={"code": "000000"}, headers=_bearer(access))
    if totp(secret, clock.now()) != "000000":
        assert wrong.status_code == 422
    confirmed = auth_client.post(
        "/auth/totp/confirm", json={"code": totp(secret, clock.now())}, headers=_bearer(access)
    )
    assert confirmed.status_code == 204
    clock.advance(timedelta(seconds=30))
    needs_code = _token(
        auth_client, grant_type="password", username=people.agent_id, password=PASSWORD
    )
    assert needs_code.json()["error"] == "invalid_grant" and needs_code.json()["totp_required"]
    bad_code = _token(
        auth_client,
        grant_type="password",
        username=people.agent_id,
        password=PASSWORD,
        totp="123456" if totp(secret, clock.now()) != "123456" else "654321",
    )
    assert bad_code.status_code == 400
    tokens = _sign_in(auth_client, people.agent_id, totp=totp(secret, clock.now()))
    me = auth_client.get("/auth/me", headers=_bearer(tokens["access_token"])).json()
    assert me["method"] == "totp" and me["account"]["totp_enabled"]
    replay = _token(
        auth_client,
        grant_type="password",
        username=people.agent_id,
        password=PASSWORD,
        totp=totp(secret, clock.now()),
    )
    assert replay.status_code == 400


def test_password_change_checks_the_current_one_and_signs_out_elsewhere(
    auth_client: TestClient, people: People
) -> None:
    _register_citizen(auth_client, people.agent_id, people.agent_name)
    tokens = _sign_in(auth_client, people.agent_id)
    headers = _bearer(tokens["access_token"])
    wrong = auth_client.post(
        "/auth/password",
        json={"current_password": "not-it-at-all", "new_password": "a new secret 9"},
        headers=headers,
    )
    assert wrong.status_code == 403
    weak = auth_client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=headers,
    )
    assert weak.status_code == 422
    changed = auth_client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new secret 9"},
        headers=headers,
    )
    assert changed.status_code == 204
    refresh = _token(auth_client, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.status_code == 400
    _sign_in(auth_client, people.agent_id, "a new secret 9")


def test_enterprise_registers_authorises_an_agent_and_withdraws_it(
    auth_client: TestClient, people: People
) -> None:
    _register_citizen(auth_client, people.representative_id, people.representative_name)
    _register_citizen(auth_client, people.agent_id, people.agent_name)
    representative = _sign_in(auth_client, people.representative_id)["access_token"]
    outsider = _sign_in(auth_client, people.agent_id)["access_token"]
    refused = auth_client.post(
        "/auth/register/enterprise",
        json={"uscc": people.uscc, "password": PASSWORD},
        headers=_bearer(outsider),
    )
    assert refused.status_code == 403
    bad_uscc = auth_client.post(
        "/auth/register/enterprise",
        json={"uscc": people.uscc[:-1] + "0", "password": PASSWORD},
        headers=_bearer(representative),
    )
    assert bad_uscc.status_code in (404, 422)
    created = auth_client.post(
        "/auth/register/enterprise",
        json={"uscc": people.uscc, "password": PASSWORD},
        headers=_bearer(representative),
    )
    assert created.status_code == 201, created.text
    enterprise = _bearer(_sign_in(auth_client, people.uscc)["access_token"])
    not_yet = _token(
        auth_client,
        grant_type="password",
        username=people.agent_id,
        password=PASSWORD,
        enterprise=people.uscc,
    )
    assert not_yet.status_code == 400 and "agent" in not_yet.json()["error_description"]
    agent = auth_client.post(
        "/auth/enterprise/agents", json={"national_id": people.agent_id}, headers=enterprise
    )
    assert agent.status_code == 201
    again = auth_client.post(
        "/auth/enterprise/agents", json={"national_id": people.agent_id}, headers=enterprise
    )
    assert again.status_code == 409
    listed = auth_client.get("/auth/enterprise/agents", headers=enterprise).json()
    assert [a["national_id"] for a in listed] == [people.agent_id]
    acting = _sign_in(auth_client, people.agent_id, enterprise=people.uscc)
    me = auth_client.get("/auth/me", headers=_bearer(acting["access_token"])).json()
    assert me["kind"] == "enterprise" and me["subject"] == people.uscc and me["roles"] == ["agent"]
    # An agent acts for the enterprise but cannot appoint agents.
    forbidden = auth_client.get("/auth/enterprise/agents", headers=_bearer(acting["access_token"]))
    assert forbidden.status_code == 403
    withdrawn = auth_client.delete(
        f"/auth/enterprise/agents/{agent.json()['id']}", headers=enterprise
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    refresh = _token(auth_client, grant_type="refresh_token", refresh_token=acting["refresh_token"])
    assert refresh.status_code == 400
    assert auth_client.delete("/auth/enterprise/agents/999", headers=enterprise).status_code == 404


def test_staff_accounts_by_department_administrators(
    auth_client: TestClient, people: People, identity_platform: Platform
) -> None:
    _staff(identity_platform, people.police_administrator)
    _staff(identity_platform, people.police_officer)
    admin = _bearer(_sign_in(auth_client, people.police_administrator)["access_token"])
    officer = _bearer(_sign_in(auth_client, people.police_officer)["access_token"])
    body = {"employee_number": people.planning_officer, "password": PASSWORD}
    assert auth_client.post("/auth/staff", json=body, headers=officer).status_code == 403
    other_department = auth_client.post("/auth/staff", json=body, headers=admin)
    assert other_department.status_code == 403
    assert "GZ-GHZYJ" in other_department.json()["detail"]
    unknown = auth_client.post(
        "/auth/staff", json={"employee_number": "GZ-GAJ-9999", "password": PASSWORD}, headers=admin
    )
    assert unknown.status_code == 404
    duplicate = auth_client.post(
        "/auth/staff",
        json={"employee_number": people.police_officer, "password": PASSWORD},
        headers=admin,
    )
    assert duplicate.status_code == 409
    _staff(identity_platform, people.city_administrator)
    city = _bearer(_sign_in(auth_client, people.city_administrator)["access_token"])
    assert auth_client.post("/auth/staff", json=body, headers=city).status_code == 201


def test_machine_clients_get_scoped_tokens(
    auth_client: TestClient, people: People, identity_platform: Platform
) -> None:
    _staff(identity_platform, people.police_administrator)
    admin = _bearer(_sign_in(auth_client, people.police_administrator)["access_token"])
    bad_scope = auth_client.post(
        "/auth/clients", json={"name": "卡口系统", "scopes": ["clients.manage"]}, headers=admin
    )
    assert bad_scope.status_code == 422
    created = auth_client.post(
        "/auth/clients",
        json={"name": "卡口系统", "scopes": ["case.dispatch", "context.write"]},
        headers=admin,
    )
    assert created.status_code == 201
    client_id, secret = created.json()["client_id"], created.json()["client_secret"]
    tokens = _token(
        auth_client, grant_type="client_credentials", client_id=client_id, client_secret=secret
    )
    assert tokens.status_code == 200
    assert tokens.json()["scope"] == "case.dispatch context.write"
    assert "refresh_token" not in tokens.json()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    narrowed = auth_client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "scope": "context.write"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert narrowed.json()["scope"] == "context.write"
    wider = _token(
        auth_client,
        grant_type="client_credentials",
        client_id=client_id,
        client_secret=secret,
        scope="clients.manage",
    )
    assert wider.json()["error"] == "invalid_scope"
    wrong = _token(
        auth_client, grant_type="client_credentials", client_id=client_id, client_secret="x"
    )
    assert wrong.status_code == 401
    # A machine token cannot reach routes for people.
    machine = _bearer(tokens.json()["access_token"])
    assert auth_client.get("/auth/me", headers=machine).status_code == 403


def test_role_changes_are_scoped_audited_and_reach_the_next_token(
    auth_client: TestClient, people: People, identity_platform: Platform
) -> None:
    _staff(identity_platform, people.police_administrator)
    _staff(identity_platform, people.police_officer)
    admin_tokens = _sign_in(auth_client, people.police_administrator)
    admin = _bearer(admin_tokens["access_token"])
    officer = _sign_in(auth_client, people.police_officer)
    path = f"/auth/staff/{people.police_officer}/roles"
    unknown_role = auth_client.put(path, json={"roles": ["chief"]}, headers=admin)
    assert unknown_role.status_code == 422
    other = auth_client.put(
        f"/auth/staff/{people.planning_officer}/roles", json={"roles": ["inspector"]}, headers=admin
    )
    assert other.status_code == 403
    own = auth_client.put(
        f"/auth/staff/{people.police_administrator}/roles",
        json={"roles": ["officer"]},
        headers=admin,
    )
    assert own.status_code == 409
    changed = auth_client.put(path, json={"roles": ["supervisor", "officer"]}, headers=admin)
    assert changed.status_code == 200 and changed.json()["roles"] == ["officer", "supervisor"]
    renewed = _token(
        auth_client, grant_type="refresh_token", refresh_token=officer["refresh_token"]
    )
    me = auth_client.get("/auth/me", headers=_bearer(renewed.json()["access_token"])).json()
    assert me["roles"] == ["officer", "supervisor"] and "case.supervise" in me["permissions"]
    with identity_platform.store.connect() as conn:
        entry = audit.history(conn, f"staff:{people.police_officer}")[0]
    assert entry.action == "identity.roles_changed"
    assert entry.details["before"] == ["officer"]
