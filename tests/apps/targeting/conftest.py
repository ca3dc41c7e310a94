"""A platform with a small registry: three households, accounts, bills, interests, staff."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.apps.payment.tables import payment_bill
from smartcity.apps.portal.tables import portal_profile
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.identity import make_citizen_id, make_uscc, register_citizen
from smartcity.kernel.identity.accounts import open_account
from smartcity.kernel.identity.actions import register_enterprise
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

TODAY = date(2026, 11, 21)


@dataclass(frozen=True)
class Person:
    key: str
    national_id: str
    community: str
    occupation: str | None
    household: int
    account: bool
    interests: str | None = None


# key, division, birth, sequence (odd: male), community, occupation, household, account
PEOPLE = (
    Person(
        "parent",
        make_citizen_id("440106", date(1990, 1, 1), 123).text,
        "440106001002",
        "teacher",
        1,
        True,
        "sports,reading",
    ),
    Person(
        "partner",
        make_citizen_id("440106", date(1992, 3, 3), 122).text,
        "440106001002",
        "nurse",
        1,
        False,
        "music",
    ),
    Person(
        "toddler",
        make_citizen_id("440106", date(2023, 5, 20), 131).text,
        "440106001002",
        None,
        1,
        False,
    ),
    Person(
        "driver",
        make_citizen_id("440106", date(1985, 5, 5), 77).text,
        "440106002001",
        "driver",
        2,
        True,
        "sportswear",
    ),
    Person(
        "elder",
        make_citizen_id("440104", date(1950, 2, 2), 42).text,
        "440104003004",
        "retired",
        3,
        True,
    ),
    Person(
        "father",
        make_citizen_id("440104", date(1995, 7, 7), 55).text,
        "440104003004",
        "engineer",
        3,
        True,
    ),
    Person(
        "baby",
        make_citizen_id("440104", date(2026, 10, 25), 66).text,
        "440104003004",
        None,
        3,
        False,
    ),
)

WATER_STAFF = Principal(
    900, AccountKind.STAFF, "GZ-SWJ-0001", department_code="GZ-SWJ", roles=frozenset({"officer"})
)
HEALTH_STAFF = Principal(
    901, AccountKind.STAFF, "GZ-WJW-0001", department_code="GZ-WJW", roles=frozenset({"officer"})
)
CITY_ADMIN = Principal(
    902,
    AccountKind.STAFF,
    "GZ-BGT-0001",
    department_code="GZ-BGT",
    roles=frozenset({"administrator"}),
)
INSPECTOR = Principal(
    903, AccountKind.STAFF, "GZ-SWJ-0002", department_code="GZ-SWJ", roles=frozenset({"inspector"})
)


@dataclass
class TargetingWorld:
    platform: Platform
    client: TestClient
    clock: FixedClock
    ids: dict[str, int] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)

    def auth(self, principal: Principal) -> dict[str, str]:
        token = self.platform.tokens.issue(principal, self.clock.now()).token
        return {"authorization": f"Bearer {token}"}

    def citizen(self, key: str) -> dict[str, str]:
        return self.auth(self.principals[key])

    def add_account(self, key: str) -> Principal:
        person = next(p for p in PEOPLE if p.key == key)
        with self.platform.store.begin() as conn:
            account_id = open_account(
                conn,
                self.clock.now(),
                kind="citizen",
                username=person.national_id,
                display_name=key,
                citizen_id=self.ids[key],
                secret_hash="not-used",
                created_by="test",
            )
        principal = Principal(account_id, AccountKind.CITIZEN, person.national_id)
        self.principals[key] = principal
        return principal


def register_people(store: Store) -> dict[str, int]:
    ids: dict[str, int] = {}
    for person in PEOPLE:
        citizen = register_citizen(
            store,
            national_id=person.national_id,
            name=person.key,
            community_code=person.community,
            grid_code=person.community + "001",
            occupation=person.occupation,
            household_id=person.household,
            today=TODAY,
        )
        ids[person.key] = citizen.id
    register_enterprise(
        store,
        uscc=make_uscc("9", "1", "440104", "MA5C0001").text,
        name="广州示例制造有限公司",
        legal_representative=next(p for p in PEOPLE if p.key == "father").national_id,
        industry="制造业",
        registered_at=date(2020, 6, 1),
        today=TODAY,
    )
    return ids


@pytest.fixture
def profiles(store: Store) -> None:
    """The citizen page's ``portal_profile`` table exists (migrated with the portal app)."""


@pytest.fixture
def world(
    store: Store,
    tmp_path: Path,
    clock: FixedClock,
    profiles: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TargetingWorld]:
    monkeypatch.setenv("SMARTCITY_PAYMENT_RECEIPTS", "on_demand")
    ids = register_people(store)
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase="targeting tests"),
        apps=installed_apps(),
        store=store,
        clock=clock,
        migrate=False,
    )
    now = clock.now()
    with store.begin() as conn:
        for person in PEOPLE:
            if person.interests is not None:
                conn.execute(
                    portal_profile.insert().values(
                        person_id=ids[person.key],
                        interests=person.interests,
                        contact="{}",
                        updated_at=now,
                    )
                )
        conn.execute(
            payment_bill.insert(),
            [
                _bill("electricity", "E-1", "driver", date(2026, 11, 25), "open", now),
                _bill("water", "W-1", "elder", date(2026, 12, 20), "open", now),
                _bill("electricity", "E-2", "parent", date(2026, 11, 23), "paid", now),
            ],
        )
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        world = TargetingWorld(platform=platform, client=client, clock=clock, ids=ids)
        for person in PEOPLE:
            if person.account:
                world.add_account(person.key)
        yield world


def _bill(
    biller: str, number: str, key: str, due: date, status: str, now: datetime
) -> dict[str, object]:
    person = next(p for p in PEOPLE if p.key == key)
    return {
        "biller_code": biller,
        "bill_number": number,
        "payer_kind": "citizen",
        "payer_identifier": person.national_id,
        "amount_fen": 5000,
        "period": "2026-10",
        "due_date": due,
        "reference": "M-1",
        "status": status,
        "issued_at": now,
        "paid_at": now if status == "paid" else None,
    }


NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
