"""The my page summary and its pluggable sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from smartcity.apps.portal.api import MyPageSection, register_section
from smartcity.kernel.errors import ConfigurationError, NotFound
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.notify import notify
from smartcity.kernel.platform import Platform
from tests.apps.portal.conftest import CITIZEN, CITIZEN_ID, POWER_SYSTEM, PortalWorld


def _issue(world: PortalWorld, number: str, amount: int, due: str) -> None:
    answer = world.send(
        "POST",
        "/payment/billers/electricity/bills",
        POWER_SYSTEM,
        json={
            "bill_number": number,
            "payer_kind": "citizen",
            "payer_identifier": CITIZEN_ID,
            "amount_fen": amount,
            "period": "2026-10",
            "due_date": due,
            "reference": "M-1",
        },
    )
    assert answer.status_code in (200, 201), answer.text


def _sections(world: PortalWorld) -> dict[str, Any]:
    answer = world.get("/api/portal/me")
    assert answer.status_code == 200, answer.text
    return {section["name"]: section for section in answer.json()["sections"]}


def test_my_page_gathers_profile_bills_wallet_inbox_documents(world: PortalWorld) -> None:
    for number, amount, due in (
        ("E-1", 12_345, "2026-12-15"),
        ("E-2", 5_000, "2026-12-01"),
        ("E-3", 700, "2026-12-20"),
        ("E-4", 100, "2026-12-30"),
    ):
        _issue(world, number, amount, due)
    with world.platform.store.begin() as conn:
        notify(
            conn,
            CITIZEN.account_id,
            "message",
            {"title": "停水通知", "body": "明天停水"},
            None,
            world.clock.now(),
        )
    answer = world.get("/api/portal/me")
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["profile"]["name"] == "陈小明"
    assert page["profile"]["occupation"] == "软件工程师"
    sections = {section["name"]: section for section in page["sections"]}
    bills = sections["bills"]
    assert bills["available"] is True
    assert bills["data"]["count"] == 4
    assert bills["data"]["total_due_fen"] == 18_145
    assert [b["due_date"] for b in bills["data"]["next"]] == [
        "2026-12-01",
        "2026-12-15",
        "2026-12-20",
    ]
    assert sections["wallet"]["data"] == {"balance_fen": 0, "available_fen": 0}
    assert sections["inbox"]["data"]["unread"] == 1
    assert sections["documents"]["data"] == {
        "count": 0,
        "used_bytes": 0,
        "quota_bytes": 100 * 1024 * 1024,
    }
    names = [section["name"] for section in page["sections"]]
    assert names[:4] == ["bills", "wallet", "inbox", "documents"]


def test_sections_no_app_provides_are_reported_not_invented(world: PortalWorld) -> None:
    sections = _sections(world)
    # "notices" and "card" are provided by the installed targeting and card apps.
    for name in ("applications", "complaints"):
        assert sections[name]["available"] is False
        assert sections[name]["reason"] == "not installed"
        assert sections[name]["data"] is None


def test_an_app_registers_a_section(world: PortalWorld) -> None:
    def applications(platform: Platform, principal: Principal) -> Mapping[str, Any]:
        return {"open": 1, "applicant": principal.subject[-4:]}

    register_section(
        world.platform,
        MyPageSection("applications", "我的办件", "My applications", applications, 70),
    )
    sections = _sections(world)
    assert sections["applications"]["available"] is True
    assert sections["applications"]["data"] == {"open": 1, "applicant": CITIZEN_ID[-4:]}
    with pytest.raises(ConfigurationError):
        register_section(world.platform, MyPageSection("applications", "办件", "x", applications))


def test_a_failing_section_does_not_break_the_page(world: PortalWorld) -> None:
    def broken(platform: Platform, principal: Principal) -> Mapping[str, Any]:
        raise RuntimeError("database on fire")

    def missing(platform: Platform, principal: Principal) -> Mapping[str, Any]:
        raise NotFound("you have no applications yet")

    register_section(world.platform, MyPageSection("complaints", "诉求", "Complaints", broken))
    register_section(world.platform, MyPageSection("applications", "办件", "Apps", missing))
    answer = world.get("/api/portal/me")
    assert answer.status_code == 200
    assert "database on fire" not in answer.text
    sections = {section["name"]: section for section in answer.json()["sections"]}
    assert sections["complaints"] == {
        "name": "complaints",
        "title_zh": "诉求",
        "title_en": "Complaints",
        "available": False,
        "reason": "temporarily unavailable",
        "data": None,
    }
    assert sections["applications"]["reason"] == "you have no applications yet"
    assert sections["card"]["reason"] == "this citizen holds no citizen card"
    assert sections["bills"]["available"] is True


def test_my_page_is_for_signed_in_citizens(world: PortalWorld) -> None:
    assert world.get("/api/portal/me", None).status_code == 401
    assert world.get("/api/portal/me", POWER_SYSTEM).status_code == 403
