"""The notification routes, and the realtime stream through a real server."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.api import notify as notify_routes
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.platform import Platform
from tests.network import free_port

CITIZEN = Principal(101, AccountKind.CITIZEN, "440106199001011234")
NEIGHBOUR = Principal(202, AccountKind.CITIZEN, "440106199202021234")
OFFICER = Principal(7, AccountKind.STAFF, "GZ-7", "440100-GA", frozenset({"officer"}))
INSPECTOR = Principal(8, AccountKind.STAFF, "GZ-8", "440100-GA", frozenset({"inspector"}))
SUPERVISOR = Principal(9, AccountKind.STAFF, "GZ-9", "440100-GA", frozenset({"supervisor"}))
BILL = {
    "biller": "电力",
    "amount": "123.45",
    "period": "2026-10",
    "due_date": "2026-12-01",
    "bill_number": "B-7",
}


def token(platform: Platform, principal: Principal) -> str:
    return platform.tokens.issue(principal, platform.clock.now()).token


def auth(platform: Platform, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(platform, principal)}"}


def send(client: TestClient, platform: Platform, account_id: int, **extra: Any) -> dict[str, Any]:
    body = {"account_id": account_id, "template": "bill_issued", "params": BILL, **extra}
    answer = client.post("/notify/messages", json=body, headers=auth(platform, OFFICER))
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_inbox_read_and_unread_counts(client: TestClient, platform: Platform) -> None:
    first = send(client, platform, CITIZEN.account_id)["message"]
    send(
        client, platform, CITIZEN.account_id, template="message", params={"title": "t", "body": "b"}
    )
    send(client, platform, NEIGHBOUR.account_id)
    mine = auth(platform, CITIZEN)
    inbox = client.get("/notify/inbox", headers=mine).json()
    assert inbox["total"] == 2 and inbox["unread"] == {"bill": 1, "service": 1}
    assert inbox["messages"][1]["title"] == "电力账单已出：123.45 元"
    read = client.post(f"/notify/inbox/{first['id']}/read", headers=mine)
    assert read.status_code == 200 and read.json()["read"] is True
    unread = client.get("/notify/inbox", params={"unread": "true"}, headers=mine).json()
    assert [m["category"] for m in unread["messages"]] == ["service"]
    bills = client.get("/notify/inbox", params={"category": "bill"}, headers=mine).json()
    assert bills["total"] == 1
    page = client.get("/notify/inbox", params={"limit": 1, "offset": 1}, headers=mine).json()
    assert [m["id"] for m in page["messages"]] == [first["id"]]
    assert client.post("/notify/inbox/read-all", headers=mine).json() == {"marked": 1}
    assert client.get("/notify/inbox", headers=mine).json()["unread_total"] == 0


def test_another_accounts_message_is_a_404(client: TestClient, platform: Platform) -> None:
    theirs = send(client, platform, NEIGHBOUR.account_id)["message"]
    answer = client.post(f"/notify/inbox/{theirs['id']}/read", headers=auth(platform, CITIZEN))
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    inbox = client.get("/notify/inbox", headers=auth(platform, NEIGHBOUR)).json()
    assert inbox["unread_total"] == 1


def test_bad_input_gets_a_clear_4xx(client: TestClient, platform: Platform) -> None:
    mine = auth(platform, CITIZEN)
    staff = auth(platform, OFFICER)
    bad_category = client.get("/notify/inbox", params={"category": "weather"}, headers=mine)
    assert bad_category.status_code == 422 and "unknown category" in bad_category.json()["detail"]
    unknown = client.post(
        "/notify/messages", json={"account_id": 1, "template": "nope", "params": {}}, headers=staff
    )
    assert unknown.status_code == 422 and "unknown template" in unknown.json()["detail"]
    missing = client.post(
        "/notify/messages", json={"account_id": 1, "template": "bill_issued"}, headers=staff
    )
    assert missing.status_code == 422 and "needs parameters" in missing.json()["detail"]
    quiet = client.put("/notify/preferences", json={"quiet_hours": "22:00-31:00"}, headers=mine)
    assert quiet.status_code == 422 and "quiet hours" in quiet.json()["detail"]
    channel = client.put("/notify/preferences", json={"channels": {"bill": ["fax"]}}, headers=mine)
    assert channel.status_code == 422
    assert client.get("/notify/inbox").status_code == 401
    assert client.post("/notify/inbox/999/read", headers=mine).status_code == 404


def test_only_staff_send_and_read_the_outbox(client: TestClient, platform: Platform) -> None:
    body = {"account_id": 1, "template": "bill_issued", "params": BILL}
    for principal in (CITIZEN, INSPECTOR):
        headers = auth(platform, principal)
        assert client.post("/notify/messages", json=body, headers=headers).status_code == 403
        assert client.get("/notify/outbox", headers=headers).status_code == 403


def test_preferences_drive_the_outbox(client: TestClient, platform: Platform) -> None:
    mine = auth(platform, CITIZEN)
    default = client.get("/notify/preferences", headers=mine).json()
    assert default["locale"] == "zh_CN" and default["quiet_hours"] is None
    saved = client.put(
        "/notify/preferences",
        json={
            "locale": "en",
            "channels": {"bill": ["sms", "email"]},
            "quiet_hours": "22:00-07:00",
            "phone": "13800138000",
            "email": "li@example.cn",
        },
        headers=mine,
    )
    assert saved.status_code == 200, saved.text
    assert client.get("/notify/preferences", headers=mine).json()["channels"]["bill"] == [
        "email",
        "sms",
    ]
    message = send(client, platform, CITIZEN.account_id)["message"]
    assert message["locale"] == "en"
    # The outbox holds phone numbers and e-mail addresses: supervisors only.
    refused = client.get("/notify/outbox", headers=auth(platform, OFFICER))
    assert refused.status_code == 403
    outbox = client.get(
        "/notify/outbox",
        params={"account_id": CITIZEN.account_id},
        headers=auth(platform, SUPERVISOR),
    ).json()["deliveries"]
    assert sorted(d["channel"] for d in outbox) == ["email", "sms"]
    assert {d["message_id"] for d in outbox} == {message["id"]}


def test_staff_send_to_many_accounts(client: TestClient, platform: Platform) -> None:
    body = {
        "account_ids": [CITIZEN.account_id, NEIGHBOUR.account_id],
        "template": "notice_published",
        "params": {
            "department": "市政府",
            "headline": "停水",
            "summary": "周六停水。",
            "link": "/n/9",
        },
    }
    answer = client.post("/notify/messages", json=body, headers=auth(platform, OFFICER))
    assert answer.status_code == 201 and answer.json() == {"sent": 2}
    for principal in (CITIZEN, NEIGHBOUR):
        inbox = client.get("/notify/inbox", headers=auth(platform, principal)).json()
        assert inbox["unread"] == {"notice": 1}


# --- the realtime stream, through a real server ---------------------------------------


@pytest.fixture
def server(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # Frequent keepalives let a closing reader notice quickly.
    monkeypatch.setattr(notify_routes, "KEEPALIVE_SECONDS", 0.1)
    port = free_port()
    config = uvicorn.Config(
        create_app(platform),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(10)


class StreamReader:
    """Reads one SSE stream in a thread and queues its events as (name, data)."""

    def __init__(self, url: str, **options: Any) -> None:
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()
        self.status: int | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=30))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, options), daemon=True)
        self._thread.start()

    def _read(self, url: str, options: dict[str, Any]) -> None:
        try:
            with self._client.stream("GET", url, **options) as answer:
                self.status = answer.status_code
                name = ""
                for line in answer.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        self.events.put((name, line[6:]))
                    elif line.startswith(":"):
                        self.events.put(("comment", line))
                self.events.put(("closed", str(answer.status_code)))
        except httpx.HTTPError as exc:
            self.events.put(("error", repr(exc)))

    def next(self, name: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name!r} event within {timeout} s")
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if got == name:
                return data
            if got in ("closed", "error"):
                raise AssertionError(f"stream ended: {got} {data}")

    def close(self) -> None:
        self._stop.set()
        self._client.close()
        self._thread.join(5)


def test_open_page_receives_its_new_messages(server: str, platform: Platform) -> None:
    import orjson

    mine = StreamReader(f"{server}/notify/stream", headers=auth(platform, CITIZEN))
    # EventSource cannot send headers: the token may come as ?access_token=.
    theirs = StreamReader(
        f"{server}/notify/stream", params={"access_token": token(platform, NEIGHBOUR)}
    )
    try:
        assert orjson.loads(mine.next("unread")) == {}
        theirs.next("unread")
        with httpx.Client(base_url=server, timeout=10) as client:
            answer = client.post(
                "/notify/messages",
                json={"account_id": CITIZEN.account_id, "template": "bill_issued", "params": BILL},
                headers=auth(platform, OFFICER),
            )
            assert answer.status_code == 201
            # Pushed, not polled: the latency itself is measured by bench/notify.py.
            pushed = orjson.loads(mine.next("message"))
        assert pushed["id"] == answer.json()["message"]["id"]
        assert pushed["title"] == "电力账单已出：123.45 元"
        with pytest.raises(AssertionError, match="no 'message' event"):
            theirs.next("message", timeout=0.5)
    finally:
        mine.close()
        theirs.close()


def test_stream_resumes_after_last_event_id_and_refuses_strangers(
    server: str, platform: Platform
) -> None:
    import orjson

    with httpx.Client(base_url=server, timeout=10) as client:
        ids = [
            client.post(
                "/notify/messages",
                json={"account_id": CITIZEN.account_id, "template": "bill_issued", "params": BILL},
                headers=auth(platform, OFFICER),
            ).json()["message"]["id"]
            for _ in range(3)
        ]
        assert client.get("/notify/stream").status_code == 401
        forged = client.get("/notify/stream", params={"access_token": "a.b.c"})
        assert forged.status_code == 401
    reader = StreamReader(
        f"{server}/notify/stream",
        headers={**auth(platform, CITIZEN), "Last-Event-ID": str(ids[0])},
    )
    try:
        assert orjson.loads(reader.next("unread")) == {"bill": 3}
        assert [orjson.loads(reader.next("message"))["id"] for _ in range(2)] == ids[1:]
    finally:
        reader.close()


def test_out_of_range_ids_and_nul_characters_are_422(
    client: TestClient, platform: Platform
) -> None:
    huge = 2**64
    mine = auth(platform, CITIZEN)
    staff = auth(platform, OFFICER)
    assert client.post(f"/notify/inbox/{huge}/read", headers=mine).status_code == 422
    too_big = {"account_id": huge, "template": "message", "params": {"title": "t", "body": "b"}}
    assert client.post("/notify/messages", json=too_big, headers=staff).status_code == 422
    nul = {"account_id": 1, "template": "message", "params": {"title": "a\x00b", "body": "b"}}
    answer = client.post("/notify/messages", json=nul, headers=staff)
    assert answer.status_code == 422 and "NUL" in answer.json()["detail"]
    bad_link = {**nul, "params": {"title": "t", "body": "b"}, "link": "/a\nb"}
    assert client.post("/notify/messages", json=bad_link, headers=staff).status_code == 422


def test_the_server_delivers_the_outbox_to_the_log(client: TestClient, platform: Platform) -> None:
    from smartcity.kernel.notify.senders import read_log

    preferences = {"channels": {"security": ["sms"]}, "phone": "13800138000"}
    assert client.put(
        "/notify/preferences", json=preferences, headers=auth(platform, CITIZEN)
    ).is_success
    send(
        client,
        platform,
        CITIZEN.account_id,
        template="login_new_device",
        params={"signed_in_at": "09:00", "device": "Pixel 9", "place": "天河区"},
    )
    deadline = time.monotonic() + 10
    staff = auth(platform, SUPERVISOR)
    while True:
        sent = client.get("/notify/outbox", params={"status": "sent"}, headers=staff).json()
        if sent["deliveries"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    (delivery,) = sent["deliveries"]
    assert delivery["recipient"] == "13800138000" and delivery["attempts"] == 1
    (line,) = read_log(platform.settings.data_dir / "outbox.log")
    assert line["key"] == delivery["idempotency_key"]
    assert line["body"].startswith("【智慧城市】新设备登录提醒")
