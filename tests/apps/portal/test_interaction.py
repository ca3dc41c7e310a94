"""建言献策: policy drafts open for comment, suggestions, public replies, moderation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.apps.portal.conftest import (
    CITIZEN,
    INSPECTOR,
    OFFICER,
    OTHER,
    OTHER_OFFICER,
    PortalWorld,
)

BODY = "为进一步优化营商环境，现就本办法公开征求社会各界意见。"


def _publish(world: PortalWorld, **changes: Any) -> Any:
    now = world.clock.now()
    body = {"title": "广州市促进数字经济发展办法（征求意见稿）", "body": BODY}
    body["closes_at"] = (now + timedelta(days=30)).isoformat()
    body.update(changes)
    return world.send("POST", "/api/portal/drafts", OFFICER, json=body)


def test_staff_publish_citizens_comment_staff_reply_everyone_reads(world: PortalWorld) -> None:
    published = _publish(world)
    assert published.status_code == 201, published.text
    draft = published.json()
    assert draft["status"] == "open"
    assert draft["department"]["code"] == "GZ-FGW"
    assert draft["department"]["name"] == "广州市发展和改革委员会"

    comment = world.send(
        "POST",
        f"/api/portal/drafts/{draft['id']}/comments",
        json={"body": "  建议  增加对中小企业的支持。 "},
    )
    assert comment.status_code == 201, comment.text
    assert comment.json()["author"] == "陈**"
    assert comment.json()["body"] == "建议 增加对中小企业的支持。"

    listing = world.get("/api/portal/drafts", None).json()
    assert [(d["id"], d["comments"]) for d in listing] == [(draft["id"], 1)]

    reply = world.send(
        "PUT",
        f"/api/portal/comments/{comment.json()['id']}/reply",
        OFFICER,
        json={"reply": "感谢您的意见，我们将在第十二条中予以吸收。"},
    )
    assert reply.status_code == 200, reply.text

    public = world.get(f"/api/portal/drafts/{draft['id']}", None).json()
    assert public["comment_list"][0]["reply"] == "感谢您的意见，我们将在第十二条中予以吸收。"
    assert public["comment_list"][0]["author"] == "陈**"
    assert "陈小明" not in str(public)
    # The citizen hears about the reply in the inbox.
    me = {s["name"]: s for s in world.get("/api/portal/me").json()["sections"]}
    assert me["inbox"]["data"]["unread"] == 1
    # Its link opens the draft on my page, not a JSON API.
    [message] = world.get("/notify/inbox").json()["messages"]
    assert message["link"] == f"/me#draft-{draft['id']}"


def test_comments_are_paced_one_a_minute(world: PortalWorld) -> None:
    draft = _publish(world).json()
    path = f"/api/portal/drafts/{draft['id']}/comments"
    assert world.send("POST", path, json={"body": "第一条意见"}).status_code == 201
    again = world.send("POST", path, json={"body": "第二条意见"})
    assert again.status_code == 429
    assert again.json()["retry_after_seconds"] == 60
    # Another citizen is not held back.
    assert world.send("POST", path, OTHER, json={"body": "我也有意见"}).status_code == 201
    world.clock.advance(timedelta(seconds=61))
    assert world.send("POST", path, json={"body": "第二条意见"}).status_code == 201


def test_comment_window_and_moderation(world: PortalWorld) -> None:
    now = world.clock.now()
    later = _publish(
        world,
        opens_at=(now + timedelta(days=1)).isoformat(),
        closes_at=(now + timedelta(days=3)).isoformat(),
    ).json()
    assert later["status"] == "upcoming"
    assert world.get(f"/api/portal/drafts/{later['id']}", None).status_code == 404
    assert world.get("/api/portal/drafts", None).json() == []
    path = f"/api/portal/drafts/{later['id']}/comments"
    assert world.send("POST", path, json={"body": "太早了吗"}).status_code == 404

    draft = _publish(world).json()
    path = f"/api/portal/drafts/{draft['id']}/comments"
    for body in ("", "  ", "x", "长" * 1001, "bell\x07"):
        answer = world.send("POST", path, json={"body": body})
        assert answer.status_code == 422, (body, answer.text)
    assert world.send("POST", path, json={"body": "好", "extra": 1}).status_code == 422

    world.clock.advance(timedelta(days=31))
    closed = world.send("POST", path, json={"body": "还来得及吗"})
    assert closed.status_code == 409
    assert world.get(f"/api/portal/drafts/{draft['id']}", None).json()["status"] == "closed"
    closed_ids = [d["id"] for d in world.get("/api/portal/drafts?status=closed", None).json()]
    assert sorted(closed_ids) == sorted([draft["id"], later["id"]])
    assert world.get("/api/portal/drafts?status=open", None).json() == []


def test_bad_drafts_are_refused(world: PortalWorld) -> None:
    now = world.clock.now()
    cases = [
        {"closes_at": (now - timedelta(days=1)).isoformat()},
        {
            "opens_at": (now + timedelta(days=5)).isoformat(),
            "closes_at": (now + timedelta(days=2)).isoformat(),
        },
        {"closes_at": (now + timedelta(days=400)).isoformat()},
        {"closes_at": "2026-12-30T10:00:00"},
        {"title": "x"},
        {"body": "too short"},
    ]
    for change in cases:
        assert _publish(world, **change).status_code == 422, change
    # Staff publish for their own department only; citizens and inspectors not at all.
    assert _publish(world, department_code="GZ-JYJ").status_code == 403
    body = {"title": "标题标题", "body": BODY, "closes_at": (now + timedelta(days=3)).isoformat()}
    assert world.send("POST", "/api/portal/drafts", CITIZEN, json=body).status_code == 403
    assert world.send("POST", "/api/portal/drafts", INSPECTOR, json=body).status_code == 403
    assert world.send("POST", "/api/portal/drafts", None, json=body).status_code == 401


def test_suggestions_reach_the_department_and_replies_are_public(world: PortalWorld) -> None:
    sent = world.send(
        "POST",
        "/api/portal/suggestions",
        json={
            "department_code": "GZ-JYJ",
            "title": "增加学位",
            "body": "建议在本社区新建一所小学。",
        },
    )
    assert sent.status_code == 201, sent.text
    suggestion = sent.json()
    assert suggestion["author"] == "陈**"
    assert suggestion["reply"] is None
    # Not public until answered.
    assert world.get("/api/portal/suggestions", None).json() == []
    assert [s["id"] for s in world.get("/api/portal/suggestions/mine").json()] == [suggestion["id"]]
    assert world.get("/api/portal/suggestions/mine", OTHER).json() == []

    inbox = world.get("/api/portal/staff/suggestions", OTHER_OFFICER).json()
    assert [s["id"] for s in inbox] == [suggestion["id"]]
    assert world.get("/api/portal/staff/suggestions", OFFICER).json() == []
    assert world.get("/api/portal/staff/suggestions?department=GZ-JYJ", OFFICER).status_code == 403

    path = f"/api/portal/suggestions/{suggestion['id']}/reply"
    assert world.send("PUT", path, OFFICER, json={"reply": "不是我们的"}).status_code == 403
    answer = world.send("PUT", path, OTHER_OFFICER, json={"reply": "已纳入明年学位规划。"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["reply"] == "已纳入明年学位规划。"
    public = world.get("/api/portal/suggestions", None).json()
    assert [(s["id"], s["reply"]) for s in public] == [(suggestion["id"], "已纳入明年学位规划。")]
    links = [m["link"] for m in world.get("/notify/inbox").json()["messages"]]
    assert links == [f"/me#suggestion-{suggestion['id']}"]


def test_bad_suggestions(world: PortalWorld) -> None:
    path = "/api/portal/suggestions"
    bad = [
        {"department_code": "GZ-NOPE", "title": "标题", "body": "建议内容足够长了吧。"},
        {"department_code": "GZ-JYJ", "title": "标", "body": "建议内容足够长了吧。"},
        {"department_code": "GZ-JYJ", "title": "标题", "body": "太短"},
        {"department_code": "GZ-JYJ", "title": "标题"},
    ]
    for body in bad:
        assert world.send("POST", path, json=body).status_code == 422, body
    good = {"department_code": "GZ-JYJ", "title": "标题", "body": "建议内容足够长了吧。"}
    assert world.send("POST", path, json=good).status_code == 201
    assert world.send("POST", path, json=good).status_code == 429
    assert world.send("POST", path, OFFICER, json=good).status_code == 403


def test_city_administrators_act_for_any_department(world: PortalWorld) -> None:
    from smartcity.kernel.identity.principal import AccountKind, Principal

    admin = Principal(
        205, AccountKind.STAFF, "GZ-BGT-0001", department_code="GZ-BGT",
        roles=frozenset({"administrator"}),
    )  # fmt: skip
    now = world.clock.now()
    body = {"title": "标题标题", "body": BODY, "closes_at": (now + timedelta(days=3)).isoformat()}
    for_education = {**body, "department_code": "GZ-JYJ"}
    answer = world.send("POST", "/api/portal/drafts", admin, json=for_education)
    assert answer.status_code == 201, answer.text
    assert answer.json()["department"]["code"] == "GZ-JYJ"
    unknown = {**body, "department_code": "GZ-NOPE"}
    assert world.send("POST", "/api/portal/drafts", admin, json=unknown).status_code == 422
    comment = world.send(
        "POST", f"/api/portal/drafts/{answer.json()['id']}/comments", json={"body": "支持"}
    ).json()
    path = f"/api/portal/comments/{comment['id']}/reply"
    assert world.send("PUT", path, OFFICER, json={"reply": "不归我们"}).status_code == 403
    assert world.send("PUT", path, OTHER_OFFICER, json={"reply": "谢谢支持"}).status_code == 200
    assert (
        world.send(
            "PUT", "/api/portal/comments/999/reply", admin, json={"reply": "无此意见"}
        ).status_code
        == 404
    )
