"""What the citizen page adds to a freshly seeded demo city.

- Profiles with interests for the residents who "opened their page": Guangzhou counted
  2.36 million personal pages for 18.8 million residents, so one adult in eight here,
  chosen and given interests from their age and occupation by the city's seed, plus the
  demo citizen (interests: childcare, health, sport, technology).
- Two policy drafts open for comment, with comments and a public reply, and an answered
  suggestion, so the interaction pages have something to show.
- Two documents in the demo citizen's storage (the journeys mark them as "in storage").

Running it again on the same database adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update

from smartcity.apps.portal import actions
from smartcity.apps.portal.models import ContactPreferences, ProfileUpdate
from smartcity.apps.portal.profile import age_on, mask_name, today_of
from smartcity.apps.portal.tables import (
    portal_comment,
    portal_document,
    portal_draft,
    portal_profile,
    portal_suggestion,
)
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.queries import get_citizen
from smartcity.kernel.identity.tables import identity_citizen, identity_department
from smartcity.kernel.platform import Platform

# Share of adults who opened their page (2.36 M of 18.8 M in Guangzhou).
PAGE_SHARE = 2.36 / 18.8
ADULT_AGE = 18
CHUNK = 20_000
DEMO_INTERESTS = ["childcare", "health", "sport", "technology"]

# Interests an occupation suggests (each taken with a high chance).
BY_OCCUPATION: dict[str, tuple[str, ...]] = {
    "软件工程师": ("technology",),
    "工程技术人员": ("technology",),
    "科研人员": ("technology", "education"),
    "教师": ("education", "culture"),
    "医生": ("health",),
    "护士": ("health",),
    "个体经营者": ("business",),
    "自由职业者": ("business", "culture"),
    "金融从业人员": ("business",),
    "会计": ("business",),
    "律师": ("business", "public_safety"),
    "设计师": ("culture", "technology"),
    "网约车司机": ("transport",),
    "货车司机": ("transport",),
    "快递员": ("transport",),
    "外卖骑手": ("transport",),
    "物流人员": ("transport",),
    "待业人员": ("employment", "education"),
    "大学生": ("education", "employment", "technology"),
    "农业生产人员": ("environment",),
    "建筑工人": ("housing", "employment"),
    "制造业工人": ("employment", "housing"),
    "离退休人员": ("elderly_care", "health"),
}
# Everyone may also like some of these.
GENERAL = ("sport", "culture", "tourism", "environment", "volunteering", "housing", "transport")


def interests_for(rng: random.Random, age: int, occupation: str | None) -> list[str]:
    """A plausible set of interests for a person of this age and occupation."""
    picked: set[str] = set()
    for code in BY_OCCUPATION.get(occupation or "", ()):
        if rng.random() < 0.8:
            picked.add(code)
    if age >= 60:
        picked.update(code for code in ("elderly_care", "health") if rng.random() < 0.7)
    if 25 <= age <= 42 and rng.random() < 0.45:
        picked.add("childcare")
    picked.update(rng.sample(GENERAL, rng.randint(1, 2)))
    return sorted(picked)


def _chunks(platform: Platform) -> Iterator[list[Any]]:
    last = 0
    columns = (identity_citizen.c.id, identity_citizen.c.birth_date, identity_citizen.c.occupation)
    while True:
        with platform.store.connect() as conn:
            rows = list(
                conn.execute(
                    select(*columns)
                    .where(identity_citizen.c.id > last)
                    .order_by(identity_citizen.c.id)
                    .limit(CHUNK)
                ).all()
            )
        if not rows:
            return
        yield rows
        last = rows[-1].id


def seed_profiles(platform: Platform, seed: int) -> int:
    """Profiles for one adult in eight; answers how many were written."""
    with platform.store.connect() as conn:
        if conn.execute(select(func.count()).select_from(portal_profile)).scalar_one():
            return 0
    rng = random.Random(f"portal-profiles-{seed}")
    today = today_of(platform)
    now = platform.clock.now()
    contact = orjson.dumps({"channels": ["inbox"], "receive_notices": True}).decode()
    written = 0
    for rows in _chunks(platform):
        batch = []
        for row in rows:
            age = age_on(row.birth_date, today)
            if age < ADULT_AGE or rng.random() >= PAGE_SHARE:
                continue
            codes = interests_for(rng, age, row.occupation)
            batch.append(
                {
                    "person_id": row.id,
                    "occupation": None,
                    "interests": ",".join(codes),
                    "contact": contact,
                    "updated_at": now,
                }
            )
        if batch:
            with platform.store.begin() as conn:
                written += platform.store.bulk_insert(conn, portal_profile, batch)
    return written


def seed_demo_citizen(platform: Platform, national_id: str) -> None:
    """The demo citizen's interests and two documents in storage."""
    citizen = get_citizen(platform.store, national_id)
    actions.save_profile(
        platform,
        citizen,
        ProfileUpdate(interests=DEMO_INTERESTS, contact=ContactPreferences()),
    )
    with platform.store.connect() as conn:
        has_documents = conn.execute(
            select(func.count()).where(portal_document.c.person_id == citizen.id)
        ).scalar_one()
    if has_documents:
        return
    for name, text in (
        ("身份证正反面（演示）.txt", "演示材料：居民身份证正反面扫描件的说明。\n"),
        ("户口簿首页（演示）.txt", "演示材料：户口簿首页及本人页。\n"),
    ):
        actions.upload_document(platform, citizen, name, text.encode())


def _account_of(platform: Platform, national_id: str) -> int | None:
    with platform.store.connect() as conn:
        value = conn.execute(
            select(identity_account.c.id)
            .join(identity_citizen, identity_citizen.c.id == identity_account.c.citizen_id)
            .where(identity_citizen.c.national_id == national_id)
        ).scalar()
    return int(value) if value is not None else None


DRAFTS: tuple[tuple[str, str, str, int, tuple[tuple[str, str | None], ...]], ...] = (
    (
        "GZ-FGW",
        "广州市促进数字经济高质量发展若干措施（征求意见稿）",
        "为加快建设数字经济引领型城市，现将《若干措施》全文公布，征求社会各界意见。"
        "主要内容包括：加快新型基础设施建设、推动产业数字化转型、完善数据要素市场、"
        "优化数字经济营商环境。意见反馈截止日期见本页。",
        30,
        (
            (
                "建议对中小企业上云给予专项补贴，并简化申报流程。",
                "感谢建议，第五条将增加中小企业上云补贴条款。",
            ),
            ("希望加强个人数据保护，明确数据交易中的个人信息处理规则。", None),
        ),
    ),
    (
        "GZ-JTJ",
        "广州市中心城区停车收费标准调整方案（征求意见稿）",
        "为缓解中心城区停车难、促进停车资源合理利用，拟对中心城区路内停车收费标准进行调整，"
        "实行分区域、分时段差别化收费。欢迎市民提出意见和建议。",
        14,
        (("建议夜间路内停车对周边居民给予优惠。", None),),
    ),
)


def seed_consultations(platform: Platform, commenter: str | None) -> None:
    """Two open drafts with comments (one answered) and an answered suggestion."""
    with platform.store.connect() as conn:
        if conn.execute(select(func.count()).select_from(portal_draft)).scalar_one():
            return
        known = set(conn.execute(select(identity_department.c.code)).scalars())
    account_id = _account_of(platform, commenter) if commenter else None
    name = get_citizen(platform.store, commenter).name if commenter else "市民"
    now = platform.clock.now()
    # Seeded comments are a few days old, so the commenter is not held by the pace limit.
    written = now - dt.timedelta(days=2)
    with platform.store.begin() as conn:
        for department, title, body, days, comments in DRAFTS:
            if department not in known:
                continue
            draft_id = conn.execute(
                insert(portal_draft)
                .values(
                    department_code=department,
                    title=title,
                    body=body,
                    opens_at=now - dt.timedelta(days=3),
                    closes_at=now + dt.timedelta(days=days),
                    published_by=0,
                    published_at=now - dt.timedelta(days=3),
                )
                .returning(portal_draft.c.id)
            ).scalar_one()
            if account_id is None:
                continue
            for text, reply in comments:
                comment_id = conn.execute(
                    insert(portal_comment)
                    .values(
                        draft_id=draft_id,
                        account_id=account_id,
                        author=mask_name(name),
                        body=text,
                        created_at=written,
                    )
                    .returning(portal_comment.c.id)
                ).scalar_one()
                if reply is not None:
                    conn.execute(
                        update(portal_comment)
                        .where(portal_comment.c.id == comment_id)
                        .values(reply=reply, replied_by=0, replied_at=now - dt.timedelta(days=1))
                    )
        if account_id is not None and "GZ-JTJ" in known:
            conn.execute(
                insert(portal_suggestion).values(
                    department_code="GZ-JTJ",
                    account_id=account_id,
                    author=mask_name(name),
                    title="增开早高峰社区接驳公交",
                    body="建议在早高峰增开社区到地铁站的接驳公交，缓解步行距离较远的问题。",
                    created_at=written,
                    reply="已纳入下季度公交线网优化方案，感谢您的建议。",
                    replied_by=0,
                    replied_at=now - dt.timedelta(days=1),
                )
            )


def seed_demo(platform: Platform, seed: int) -> None:
    """Everything above, for ``smartcity seed``/``demo``."""
    from smartcity.sim.accounts import DEMO_AGENT, DEMO_CITIZEN

    seed_profiles(platform, seed)
    with platform.store.connect() as conn:
        present = set(
            conn.execute(
                select(identity_citizen.c.national_id).where(
                    identity_citizen.c.national_id.in_([DEMO_CITIZEN, DEMO_AGENT])
                )
            ).scalars()
        )
    if DEMO_CITIZEN in present:
        seed_demo_citizen(platform, DEMO_CITIZEN)
    seed_consultations(platform, DEMO_AGENT if DEMO_AGENT in present else None)
