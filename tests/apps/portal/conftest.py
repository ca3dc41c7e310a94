"""A platform with the citizen page, a household of registered citizens and their tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.identity import make_citizen_id, register_citizen
from smartcity.kernel.identity.actions import add_department
from smartcity.kernel.identity.departments import DEPARTMENTS
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

TODAY = date(2026, 11, 21)
COMMUNITY = "440106001002"
CITIZEN_ID = make_citizen_id("440106", date(1990, 1, 1), 123).text
SPOUSE_ID = make_citizen_id("440106", date(1991, 3, 4), 124).text
CHILD_ID = make_citizen_id("440106", date(2022, 12, 1), 125).text
OTHER_ID = make_citizen_id("440104", date(1950, 5, 5), 77).text

CITIZEN = Principal(101, AccountKind.CITIZEN, CITIZEN_ID)
OTHER = Principal(102, AccountKind.CITIZEN, OTHER_ID)
UNREGISTERED = Principal(
    103, AccountKind.CITIZEN, make_citizen_id("440106", date(1999, 9, 9), 5).text
)
POWER_SYSTEM = Principal(
    201,
    AccountKind.MACHINE,
    "power-billing",
    department_code="GZ-GDJ",
    scopes=frozenset({"payment.bill"}),
)
OFFICER = Principal(
    202, AccountKind.STAFF, "GZ-FGW-0001", department_code="GZ-FGW", roles=frozenset({"officer"})
)
OTHER_OFFICER = Principal(
    203, AccountKind.STAFF, "GZ-JYJ-0001", department_code="GZ-JYJ", roles=frozenset({"officer"})
)
INSPECTOR = Principal(
    204, AccountKind.STAFF, "GZ-CGJ-0001", department_code="GZ-CGJ", roles=frozenset({"inspector"})
)


@dataclass
class PortalWorld:
    platform: Platform
    client: TestClient
    clock: FixedClock

    def auth(self, principal: Principal) -> dict[str, str]:
        token = self.platform.tokens.issue(principal, self.clock.now()).token
        return {"authorization": f"Bearer {token}"}

    def get(self, path: str, principal: Principal | None = CITIZEN, **kwargs: Any) -> Any:
        headers = self.auth(principal) if principal is not None else {}
        return self.client.get(path, headers=headers, **kwargs)

    def send(
        self, method: str, path: str, principal: Principal | None = CITIZEN, **kwargs: Any
    ) -> Any:
        headers = {**kwargs.pop("headers", {})}
        if principal is not None:
            headers.update(self.auth(principal))
        return self.client.request(method, path, headers=headers, **kwargs)


def register_people(store: Store) -> None:
    for department in DEPARTMENTS:
        if department.code in ("GZ-FGW", "GZ-JYJ", "GZ-WJW", "GZ-GAJ"):
            add_department(store, department)
    people = (
        (CITIZEN_ID, "陈小明", "软件工程师", 7),
        (SPOUSE_ID, "林小红", "教师", 7),
        (CHILD_ID, "陈豆豆", "学龄前儿童", 7),
        (OTHER_ID, "李华", "离退休人员", 8),
    )
    for national_id, name, occupation, household in people:
        register_citizen(
            store,
            national_id=national_id,
            name=name,
            community_code=COMMUNITY if household == 7 else "440104001001",
            grid_code=(COMMUNITY if household == 7 else "440104001001") + "003",
            occupation=occupation,
            household_id=household,
            today=TODAY,
        )


@pytest.fixture
def world(
    store: Store, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PortalWorld]:
    monkeypatch.setenv("SMARTCITY_PAYMENT_RECEIPTS", "on_demand")
    register_people(store)
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase="portal tests passphrase"),
        apps=installed_apps(),
        store=store,
        clock=clock,
        migrate=False,
    )
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        yield PortalWorld(platform=platform, client=client, clock=clock)
