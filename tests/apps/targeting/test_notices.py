"""Staff author, preview and publish notices; citizens find the ones that concern them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from smartcity.apps.targeting import actions
from smartcity.kernel.notify.tables import notify_message

from .conftest import CITY_ADMIN, HEALTH_STAFF, INSPECTOR, WATER_STAFF, TargetingWorld

OUTAGE_RULE = {"kind": "area_event", "event": "water_outage", "within_days": 2}
PARENTS_RULE = {
    "kind": "all",
    "rules": [{"kind": "age", "min": 18}, {"kind": "child_age", "min": 0, "max": 6}],
}


def notice(audience: Any, **extra: Any) -> dict[str, Any]:
    return {
        "title_zh": "停水通知",
        "title_en": "Water outage",
        "body_zh": "明日 9:00-17:00 停水。",
        "body_en": "No water tomorrow 9:00-17:00.",
        "audience": audience,
        **extra,
    }


def create(world: TargetingWorld, audience: Any, principal: Any = WATER_STAFF, **extra: Any) -> Any:
    answer = world.client.post(
        "/api/targeting/notices", json=notice(audience, **extra), headers=world.auth(principal)
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def publish(world: TargetingWorld, notice_id: int, principal: Any = WATER_STAFF) -> Any:
    answer = world.client.post(
        f"/api/targeting/notices/{notice_id}/publish", headers=world.auth(principal)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def mine(world: TargetingWorld, key: str, lang: str = "zh_CN") -> list[dict[str, Any]]:
    answer = world.client.get(f"/api/targeting/mine?lang={lang}", headers=world.citizen(key))
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()
    return result


def record_outage(world: TargetingWorld, area: str = "440106001002") -> None:
    answer = world.client.post(
        "/api/targeting/events",
        json={
            "kind": "water_outage",
            "area_code": area,
            "starts_on": "2026-11-22",
            "ends_on": "2026-11-22",
            "description": "管网维修",
        },
        headers=world.auth(WATER_STAFF),
    )
    assert answer.status_code == 201, answer.text


def test_preview_counts_matches_and_accounts_without_sending(world: TargetingWorld) -> None:
    answer = world.client.post(
        "/api/targeting/preview",
        json={"audience": PARENTS_RULE},
        headers=world.auth(HEALTH_STAFF),
    )
    assert answer.status_code == 200, answer.text
    # parent, partner (household 1, toddler aged 3); father (household 3, a baby); not the
    # elder (same household as the baby, but is 76: still matches child_age) -> see below
    body = answer.json()
    assert body["matched"] == 4  # parent, partner, elder and father live with a child aged 0-6
    assert body["with_account"] == 3  # the partner has no account
    with world.platform.store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(notify_message)).scalar_one() == 0


def test_publish_delivers_to_matching_accounts_and_counts_reach(world: TargetingWorld) -> None:
    record_outage(world)
    created = create(world, OUTAGE_RULE)
    assert created["status"] == "draft"
    published = publish(world, created["id"])
    assert published["status"] == "published"
    # household 1 lives in the community with the outage: parent, partner, toddler
    assert (published["matched"], published["delivered"]) == (3, 1)

    reach = world.client.get(
        f"/api/targeting/notices/{created['id']}/reach", headers=world.auth(WATER_STAFF)
    ).json()
    assert reach == {
        "notice_id": created["id"],
        "status": "published",
        "matched": 3,
        "delivered": 1,
        "matched_no_account": 2,
        "read": 0,
    }

    inbox = world.client.get("/notify/inbox", headers=world.citizen("parent")).json()
    messages = inbox["messages"] if isinstance(inbox, dict) else inbox
    assert [m["title"] for m in messages] == ["停水通知"]
    message_id = messages[0]["id"]
    read = world.client.post(f"/notify/inbox/{message_id}/read", headers=world.citizen("parent"))
    assert read.status_code in (200, 204), read.text
    reach = world.client.get(
        f"/api/targeting/notices/{created['id']}/reach", headers=world.auth(WATER_STAFF)
    ).json()
    assert reach["read"] == 1

    assert [n["title"] for n in mine(world, "parent")] == ["停水通知"]
    assert mine(world, "parent", "en")[0]["title"] == "Water outage"
    assert mine(world, "parent")[0]["read"] is True
    assert mine(world, "driver") == []  # another community


def test_publishing_twice_is_a_conflict(world: TargetingWorld) -> None:
    created = create(world, {"kind": "occupation", "values": ["driver"]})
    publish(world, created["id"])
    again = world.client.post(
        f"/api/targeting/notices/{created['id']}/publish", headers=world.auth(WATER_STAFF)
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_a_citizen_who_registers_later_sees_the_notice(world: TargetingWorld) -> None:
    created = create(world, {"kind": "occupation", "values": ["nurse"]})
    assert publish(world, created["id"])["delivered"] == 0  # the nurse has no account yet
    world.add_account("partner")
    found = mine(world, "partner")
    assert [n["id"] for n in found] == [created["id"]]
    assert found[0]["message_id"] is None


def test_expired_and_draft_notices_are_not_shown(world: TargetingWorld) -> None:
    create(world, {"kind": "occupation", "values": ["driver"]})  # a draft
    expired = create(
        world,
        {"kind": "occupation", "values": ["driver"]},
        publish_at="2026-11-01T00:00:00Z",
        expires_at="2026-11-10T00:00:00Z",
    )
    publish(world, expired["id"])
    assert mine(world, "driver") == []


def test_scheduled_notice_is_delivered_when_due(world: TargetingWorld) -> None:
    from datetime import timedelta

    created = create(
        world, {"kind": "occupation", "values": ["driver"]}, publish_at="2026-11-22T01:00:00Z"
    )
    assert publish(world, created["id"])["status"] == "scheduled"
    assert actions.deliver_due(world.platform) == 0
    world.clock.advance(timedelta(days=1))
    assert actions.deliver_due(world.platform) == 1
    reach = world.client.get(
        f"/api/targeting/notices/{created['id']}/reach", headers=world.auth(WATER_STAFF)
    ).json()
    assert (reach["status"], reach["delivered"]) == ("published", 1)


def test_a_cut_publication_resumes_without_notifying_twice(world: TargetingWorld) -> None:
    created = create(world, {"kind": "age", "min": 18})
    # Publish by hand with batches of two persons, and stop after the first batch.
    with world.platform.store.begin() as conn:
        from sqlalchemy import update

        from smartcity.apps.targeting.tables import targeting_notice

        conn.execute(
            update(targeting_notice)
            .where(targeting_notice.c.id == created["id"])
            .values(status="publishing")
        )
    assert actions.deliver_batch(world.platform, created["id"], batch_size=2) is True
    reach = world.client.get(
        f"/api/targeting/notices/{created['id']}/reach", headers=world.auth(WATER_STAFF)
    ).json()
    assert (reach["status"], reach["matched"]) == ("publishing", 2)
    # "Restart": the platform's due-publication sweep resumes at the next batch.
    assert actions.deliver_due(world.platform) == 1
    reach = world.client.get(
        f"/api/targeting/notices/{created['id']}/reach", headers=world.auth(WATER_STAFF)
    ).json()
    assert reach["status"] == "published"
    assert (reach["matched"], reach["delivered"]) == (5, 4)  # five adults, four accounts
    with world.platform.store.connect() as conn:
        per_account = conn.execute(
            select(notify_message.c.account_id, func.count()).group_by(notify_message.c.account_id)
        ).all()
    assert sorted(count for _, count in per_account) == [1, 1, 1, 1]


def test_staff_of_another_department_may_not_publish_or_see_reach(world: TargetingWorld) -> None:
    created = create(world, {"kind": "gender", "gender": "F"})
    other = world.client.post(
        f"/api/targeting/notices/{created['id']}/publish", headers=world.auth(HEALTH_STAFF)
    )
    assert other.status_code == 403
    reach = world.client.get(
        f"/api/targeting/notices/{created['id']}/reach", headers=world.auth(HEALTH_STAFF)
    )
    assert reach.status_code == 403
    assert publish(world, created["id"], CITY_ADMIN)["status"] == "published"
    listed = world.client.get("/api/targeting/notices", headers=world.auth(HEALTH_STAFF)).json()
    assert listed == []
    listed = world.client.get("/api/targeting/notices", headers=world.auth(CITY_ADMIN)).json()
    assert [n["id"] for n in listed] == [created["id"]]


def test_who_may_call_what(world: TargetingWorld) -> None:
    rule = {"audience": {"kind": "gender", "gender": "F"}}
    inspector = world.client.post(
        "/api/targeting/preview", json=rule, headers=world.auth(INSPECTOR)
    )
    assert inspector.status_code == 403
    citizen = world.client.post(
        "/api/targeting/preview", json=rule, headers=world.citizen("parent")
    )
    assert citizen.status_code == 403
    staff_mine = world.client.get("/api/targeting/mine", headers=world.auth(WATER_STAFF))
    assert staff_mine.status_code == 403
    assert world.client.get("/api/targeting/mine").status_code == 401
    missing = world.client.get("/api/targeting/notices/999/reach", headers=world.auth(WATER_STAFF))
    assert missing.status_code == 404


def test_bad_rules_and_notices_are_clear_422s(world: TargetingWorld) -> None:
    cases = [
        {"kind": "age", "min": 9, "max": 3},
        {"kind": "area", "codes": ["4401"]},
        {"kind": "occupation", "values": []},
        {"kind": "nonsense"},
        {"kind": "all", "rules": [{"kind": "gender", "gender": "X"}]},
        {"kind": "bill_due", "within_days": 9999},
    ]
    for audience in cases:
        answer = world.client.post(
            "/api/targeting/preview", json={"audience": audience}, headers=world.auth(WATER_STAFF)
        )
        assert answer.status_code == 422, (audience, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    deep: dict[str, Any] = {"kind": "gender", "gender": "F"}
    for _ in range(10):
        deep = {"kind": "not", "rule": deep}
    answer = world.client.post(
        "/api/targeting/preview", json={"audience": deep}, headers=world.auth(WATER_STAFF)
    )
    assert answer.status_code == 422
    backwards = world.client.post(
        "/api/targeting/notices",
        json=notice(
            OUTAGE_RULE, publish_at="2026-11-22T00:00:00Z", expires_at="2026-11-21T00:00:00Z"
        ),
        headers=world.auth(WATER_STAFF),
    )
    assert backwards.status_code == 422


def test_each_citizen_gets_the_notice_in_their_language(world: TargetingWorld) -> None:
    saved = world.client.put(
        "/notify/preferences", json={"locale": "en"}, headers=world.citizen("father")
    )
    assert saved.status_code == 200, saved.text
    created = create(world, {"kind": "area", "codes": ["440104"]})
    assert publish(world, created["id"])["delivered"] == 2  # the elder and the father

    def titles(key: str) -> list[str]:
        inbox = world.client.get("/notify/inbox", headers=world.citizen(key)).json()
        messages = inbox["messages"] if isinstance(inbox, dict) else inbox
        return [m["title"] for m in messages]

    assert titles("father") == ["Water outage"]
    assert titles("elder") == ["停水通知"]
