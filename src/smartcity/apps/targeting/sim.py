"""Demo notices of the seeded city: what "information finds people" looks like on day one.

Four notices are published (docs/apps/targeting.md says who each reaches):
a water outage in the demo citizen's community tomorrow (matches DEMO_CITIZEN and
DEMO_AGENT, who live there), a vaccination reminder for parents of children aged 0-6 (no
demo account: they have no household), an electricity bill reminder for unpaid bills
(matches DEMO_CITIZEN, whose bills the payment app seeds) and a subsidy for software
enterprises (matches DEMO_CITIZEN, the demo enterprise's legal representative, and not
DEMO_AGENT).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tables import identity_citizen

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

WATER, HEALTH, POWER, INDUSTRY = "GZ-SWJ", "GZ-WJW", "GZ-GDJ", "GZ-GXJ"
SOFTWARE = "软件和信息技术服务业"


def _publisher(department: str) -> Principal:
    # The seed acts as a system administrator of each publishing department.
    return Principal(0, AccountKind.STAFF, "system:seed", department, frozenset({"administrator"}))


def demo_notices() -> list[tuple[str, dict[str, Any]]]:
    """(department, notice request) of every demo notice."""
    return [
        (
            WATER,
            {
                "title_zh": "明日停水通知",
                "title_en": "Water outage tomorrow",
                "body_zh": "因供水管网维修，您所在社区明日 9:00-17:00 停止供水，请提前储水。",
                "body_en": "Because of mains repairs, your community has no water tomorrow "
                "from 9:00 to 17:00. Please store some water in advance.",
                "category": "alert",
                "audience": {"kind": "area_event", "event": "water_outage", "within_days": 2},
            },
        ),
        (
            HEALTH,
            {
                "title_zh": "儿童预防接种提醒",
                "title_en": "Vaccination reminder for your child",
                "body_zh": "您家中有 0-6 岁儿童，请按国家免疫规划按时到社区卫生服务中心接种疫苗。",
                "body_en": "A child aged 0-6 lives in your household: please have them "
                "vaccinated on time at the community health centre (national schedule).",
                "audience": {
                    "kind": "all",
                    "rules": [
                        {"kind": "age", "min": 18},
                        {"kind": "child_age", "min": 0, "max": 6},
                    ],
                },
            },
        ),
        (
            POWER,
            {
                "title_zh": "电费缴费提醒",
                "title_en": "Electricity bill reminder",
                "body_zh": "您有未缴的电费账单，可在市民主页一键缴费。",
                "body_en": "You have an unpaid electricity bill: pay it in one tap on your "
                "citizen page.",
                "category": "bill",
                "audience": {
                    "kind": "bill_due",
                    "within_days": 31,
                    "overdue": True,
                    "billers": ["electricity"],
                },
            },
        ),
        (
            INDUSTRY,
            {
                "title_zh": "软件企业研发补贴申报",
                "title_en": "R&D subsidy for software enterprises",
                "body_zh": "您是软件和信息技术服务业企业的法定代表人，可申报本年度研发补贴。",
                "body_en": "You represent a software and IT services enterprise: it may "
                "apply for this year's R&D subsidy.",
                "audience": {"kind": "enterprise_industry", "industries": [SOFTWARE]},
            },
        ),
    ]


def seed_demo(platform: Platform, seed: int) -> None:
    """Record the demo outage and publish the demo notices (once per city)."""
    from smartcity.apps.targeting import actions
    from smartcity.apps.targeting.models import EventRequest, NoticeRequest
    from smartcity.apps.targeting.tables import targeting_notice
    from smartcity.sim.accounts import DEMO_CITIZEN

    del seed  # the notices are the same for every seed
    with platform.store.connect() as conn:
        if conn.execute(select(func.count()).select_from(targeting_notice)).scalar_one():
            return
        community = conn.execute(
            select(identity_citizen.c.community_code).where(
                identity_citizen.c.national_id == DEMO_CITIZEN
            )
        ).scalar_one_or_none()
    if community is None:
        return  # no demo people in this city
    tomorrow = (platform.clock.now() + timedelta(days=1)).date()
    actions.record_event(
        platform,
        _publisher(WATER),
        EventRequest.model_validate(
            {
                "kind": "water_outage",
                "area_code": community,
                "starts_on": tomorrow,
                "ends_on": tomorrow,
                "description": "供水管网维修 mains repairs",
            }
        ),
    )
    for department, request in demo_notices():
        created = actions.create_notice(
            platform, _publisher(department), NoticeRequest.model_validate(request)
        )
        actions.publish_notice(platform, _publisher(department), created.id)
