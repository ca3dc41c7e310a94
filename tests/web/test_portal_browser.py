"""我的主页 in a real browser: Debian's Chromium driven by Playwright.

A uvicorn subprocess serves a tiny seeded city with every installed app's demo data
(the demo citizen has last month's bills and money in the wallet). Run these alone with
``uv run pytest -m browser tests/web/test_portal_browser.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from smartcity.sim.accounts import DEMO_CITIZEN, DEMO_PASSWORD
from tests.web.test_ops_page_browser import (
    CITY_SEED,
    PageWatch,
    browser,  # noqa: F401 - the shared Chromium fixture
    open_page,
    serve_city,
)

pytestmark = pytest.mark.browser

PHONE_WIDTH = 375
SCREENSHOT_PHONE = Path("/tmp/portal-phone.png")


def seed_city_with_apps(data_dir: Path) -> None:
    from smartcity.cli import seed_apps
    from smartcity.kernel.config import Settings
    from smartcity.kernel.storage import open_store
    from smartcity.sim.city import seed_city
    from smartcity.sim.profiles import TINY
    from smartcity.sim.progress import SilentProgress

    url = f"sqlite:///{data_dir / 'smartcity.db'}"
    store = open_store(url)
    try:
        store.migrate()
        seed_city(store, profile=TINY, seed=CITY_SEED, progress=SilentProgress())
        settings = dataclasses.replace(Settings.from_env(), data_dir=data_dir, database_url=url)
        seed_apps(store, settings, CITY_SEED)
    finally:
        store.close()


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory of a seeded tiny city with the apps' demo data."""
    data_dir = tmp_path_factory.mktemp("portal-city")
    seed_city_with_apps(data_dir)
    return data_dir


@dataclasses.dataclass(frozen=True)
class Resident:
    national_id: str
    name: str


@pytest.fixture(scope="module")
def residents(city_dir: Path) -> list[Resident]:
    """Registered residents without an account yet, for tests that open one."""
    with sqlite3.connect(city_dir / "smartcity.db") as conn:
        rows = conn.execute(
            "SELECT national_id, name FROM identity_citizen WHERE national_id NOT IN "
            "(SELECT username FROM identity_account) ORDER BY national_id LIMIT 6"
        ).fetchall()
    return [Resident(national_id, name) for national_id, name in rows]


def open_account(server: str, resident: Resident, password: str) -> dict[str, Any]:
    """Register ``resident`` through the API and sign in; the token answer."""
    registered = httpx.post(
        f"{server}/auth/register/citizen",
        json={"national_id": resident.national_id, "name": resident.name, "password": password},
    )
    assert registered.status_code == 201, registered.text
    signed_in = httpx.post(
        f"{server}/auth/token",
        data={"grant_type": "password", "username": resident.national_id, "password": password},
    )
    assert signed_in.status_code == 200, signed_in.text
    answer: dict[str, Any] = signed_in.json()
    return answer


@pytest.fixture(scope="module")
def server(city_dir: Path) -> Iterator[str]:
    """Base URL of a real server over the seeded city."""
    with serve_city(city_dir) as base_url:
        yield base_url


class PortalWatch:
    """What a page asked for, complained about, and was refused."""

    def __init__(self, watch: PageWatch) -> None:
        self.watch = watch
        self.failed: list[tuple[int, str]] = []

    def outside_requests(self) -> list[str]:
        return self.watch.outside_requests()


# Sections probe the APIs of apps that may not be there yet: their 404 is expected.
OPTIONAL_APIS = ("/api/portal/", "/api/targeting/", "/api/card/")


def open_portal_page(chromium: Any, width: int, height: int) -> tuple[Any, PortalWatch]:
    page, page_watch = open_page(chromium, width, height)
    watch = PortalWatch(page_watch)
    page.on(
        "response",
        lambda response: (
            watch.failed.append((response.status, urlsplit(response.url).path))
            if response.status >= 400
            else None
        ),
    )
    return page, watch


def page_errors(watch: PortalWatch, expected: tuple[str, ...] = ()) -> list[str]:
    """Script errors and refused requests, except optional sections' 404s and ``expected``.

    Chromium also logs every refused request as a console error ("Failed to load
    resource"); those are judged here by their URL instead.
    """
    refused = [
        f"{status} {path}"
        for status, path in watch.failed
        if path not in expected and not (status == 404 and path.startswith(OPTIONAL_APIS))
    ]
    errors = [
        error for error in watch.watch.errors if not error.startswith("Failed to load resource")
    ]
    return refused + errors


def sign_in(
    page: Any, server: str, username: str = DEMO_CITIZEN, password: str = DEMO_PASSWORD
) -> None:
    page.goto(f"{server}/me/signin")
    page.get_by_label("身份证号", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/me")
    page.evaluate("window.smartcityPortal.ready")


def wallet_fen(page: Any) -> int:
    return int(page.locator("#wallet-balance").get_attribute("data-fen"))


def unnamed_inputs(page: Any) -> list[str]:
    """Inputs and buttons a screen reader would announce without a name."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll("input, select, textarea, button")]
                 .filter((node) => !node.closest("[hidden]"))
                 .filter((node) => {
                   const labels = node.labels ? [...node.labels] : [];
                   const labelled = labels.some((label) => label.textContent.trim())
                     || node.getAttribute("aria-label") || node.getAttribute("aria-labelledby")
                     || (node.tagName === "BUTTON" && node.textContent.trim());
                   return !labelled;
                 })
                 .map((node) => node.outerHTML)"""
        )
    )


def test_sign_in_see_bills_pay_one_and_watch_the_balance(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, 1280, 900)
    try:
        sign_in(page, server)
        assert page.locator("#me-greeting").inner_text() == "演示市民，您好"
        open_bills = page.locator("#bills-open li")
        assert open_bills.count() >= 1
        before = wallet_fen(page)
        first = open_bills.first
        amount_text = first.locator(".item__amount").inner_text()
        bill_id = first.get_attribute("data-bill")
        first.get_by_role("button", name="缴费").click()
        page.locator("#bills-status").get_by_text("已缴费").wait_for()
        page.wait_for_function(
            "(before) => document.querySelector('#wallet-balance').dataset.fen !== before",
            arg=str(before),
        )
        after = wallet_fen(page)
        assert after < before
        amount_fen = round(float(amount_text.replace("¥", "").replace(",", "")) * 100)
        assert before - after == amount_fen
        # The bill moved to the history, with its receipt.
        assert page.locator(f'#bills-open li[data-bill="{bill_id}"]').count() == 0
        page.locator("#bills-history summary").click()
        paid = page.locator(f'#bills-paid li[data-bill="{bill_id}"]')
        paid.wait_for()
        paid.get_by_role("button", name="电子回单").click()
        paid.locator(".receipt").get_by_text("回单号").wait_for()
        # A page reload keeps the session (sessionStorage) and the new balance.
        page.reload()
        page.evaluate("window.smartcityPortal.ready")
        assert wallet_fen(page) == after
    finally:
        page.context.close()
    assert watch.outside_requests() == []
    assert page_errors(watch) == []


def test_signed_out_visitor_is_sent_to_sign_in(browser: Any, server: str) -> None:  # noqa: F811
    page, _watch = open_portal_page(browser, 1280, 900)
    try:
        page.goto(f"{server}/me")
        page.wait_for_url("**/me/signin?next=*")
        # Wrong password: an alert, focus back on the password field.
        page.get_by_label("身份证号", exact=True).fill(DEMO_CITIZEN)
        page.get_by_label("密码", exact=True).fill("not-the-password")
        page.get_by_role("button", name="登录", exact=True).click()
        alert = page.locator("#signin-status")
        alert.get_by_text("身份证号或密码不正确").wait_for()
        assert alert.get_attribute("role") == "alert"
        assert page.locator("#signin-password").get_attribute("aria-invalid") == "true"
        assert page.evaluate("document.activeElement.id") == "signin-password"
    finally:
        page.context.close()


def test_keyboard_only_sign_in_and_sign_out(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, 1280, 900)
    try:
        page.goto(f"{server}/me/signin")
        page.locator("#signin-username").focus()
        page.keyboard.type(DEMO_CITIZEN)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "signin-password"
        page.keyboard.type(DEMO_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/me")
        page.evaluate("window.smartcityPortal.ready")
        assert page.locator("#bills-open li").count() >= 1
        # Focus is visible: the focused element draws an outline.
        page.locator("#me-signout").focus()
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none")
        refresh_token = page.evaluate(
            "JSON.parse(sessionStorage.getItem('smartcity.portal.session')).refreshToken"
        )
        page.keyboard.press("Enter")
        page.wait_for_url("**/me/signin")
        assert page.evaluate("sessionStorage.length") == 0
        # Sign-out revoked the refresh token on the server too.
        refused = httpx.post(
            f"{server}/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        )
        assert refused.status_code == 400
    finally:
        page.context.close()
    assert page_errors(watch) == []


def test_every_input_has_an_accessible_name(browser: Any, server: str) -> None:  # noqa: F811
    page, _watch = open_portal_page(browser, 1280, 900)
    try:
        for path in ("/me/signin", "/me/register"):
            page.goto(f"{server}{path}")
            assert unnamed_inputs(page) == [], path
            assert page.locator("main#main").count() == 1
            assert page.locator("h1").count() == 1
        sign_in(page, server)
        assert unnamed_inputs(page) == []
    finally:
        page.context.close()


def test_registration_shows_server_errors_beside_their_fields(browser: Any, server: str) -> None:  # noqa: F811
    page, _watch = open_portal_page(browser, 1280, 900)
    try:
        page.goto(f"{server}/me/register")
        national_id = page.get_by_label("身份证号", exact=True)
        # The client-side hint: a wrong check character is pointed out while typing.
        wrong = DEMO_CITIZEN[:17] + ("0" if DEMO_CITIZEN[17] != "0" else "1")
        national_id.fill(wrong)
        assert "校验位不对" in page.locator("#register-national-id-hint").inner_text()
        national_id.fill(DEMO_CITIZEN)
        assert "校验位正确" in page.locator("#register-national-id-hint").inner_text()
        page.get_by_label("姓名", exact=True).fill("演示市民")
        page.get_by_label("密码", exact=True).fill("short")
        page.get_by_role("button", name="注册", exact=True).click()
        error = page.locator("#register-password-error")
        error.wait_for()
        assert error.inner_text()
        assert page.locator("#register-password").get_attribute("aria-invalid") == "true"
        assert "register-password-error" in (
            page.locator("#register-password").get_attribute("aria-describedby") or ""
        )
        # Already registered: the ID field says so.
        page.get_by_label("密码", exact=True).fill("a-much-longer-password-2026")
        page.get_by_role("button", name="注册", exact=True).click()
        page.locator("#register-national-id-error").get_by_text("已经注册").wait_for()
    finally:
        page.context.close()


def test_my_page_on_a_phone_in_english(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, PHONE_WIDTH, 812)
    try:
        page.goto(f"{server}/me/signin?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        page.get_by_label("ID number", exact=True).fill(DEMO_CITIZEN)
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/me?lang=en")
        page.evaluate("window.smartcityPortal.ready")
        assert page.locator("h1").inner_text() == "My page"
        assert page.locator("#bills-heading").inner_text() == "My bills"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        page.screenshot(path=str(SCREENSHOT_PHONE), full_page=True)
    finally:
        page.context.close()
    assert watch.outside_requests() == []
    assert page_errors(watch) == []


def test_sign_in_with_the_totp_step(
    browser: Any,  # noqa: F811 - the fixture imported above
    server: str,
    residents: list[Resident],
) -> None:
    from smartcity.kernel.identity.totp import totp

    resident = residents[0]
    password = "totp-resident-2026"
    token = open_account(server, resident, password)["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    enrolment = httpx.post(f"{server}/auth/totp/enrol", headers=bearer).json()
    key = base64.b32decode(enrolment["secret"] + "=" * (-len(enrolment["secret"]) % 8))
    confirmed = httpx.post(
        f"{server}/auth/totp/confirm", headers=bearer, json={"code": totp(key, time.time())}
    )
    assert confirmed.status_code == 204, confirmed.text

    page, watch = open_portal_page(browser, 1280, 900)
    try:
        page.goto(f"{server}/me/signin")
        assert page.locator("#signin-totp-group").is_hidden()
        page.get_by_label("身份证号", exact=True).fill(resident.national_id)
        page.get_by_label("密码", exact=True).fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        # The server asks for the second factor: the field appears and takes the focus.
        code_field = page.get_by_label("动态验证码（6 位）")
        code_field.wait_for()
        assert "动态验证码" in page.locator("#signin-status").inner_text()
        assert page.evaluate("document.activeElement.id") == "signin-totp"
        # The code of the next step: the one used to confirm cannot be used again.
        code_field.fill(totp(key, time.time() + 30))
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_url("**/me")
        page.evaluate("window.smartcityPortal.ready")
        assert resident.name in page.locator("#me-greeting").inner_text()
        assert "已开启" in page.locator("#profile-details").inner_text()
    finally:
        page.context.close()
    assert page_errors(watch, expected=("/auth/token",)) == []


def test_sign_in_with_a_certificate_signed_in_the_browser(
    browser: Any,  # noqa: F811 - the fixture imported above
    server: str,
    residents: list[Resident],
    tmp_path: Path,
) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import CertificateSigningRequestBuilder, Name, NameAttribute
    from cryptography.x509.oid import NameOID

    resident = residents[1]
    token = open_account(server, resident, "certificate-resident-2026")["access_token"]
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        CertificateSigningRequestBuilder()
        .subject_name(Name([NameAttribute(NameOID.COMMON_NAME, "holder")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    issued = httpx.post(
        f"{server}/pki/certificates",
        headers={"Authorization": f"Bearer {token}"},
        json={"csr": csr.decode()},
    )
    assert issued.status_code in (200, 201), issued.text
    certificate_file = tmp_path / "me.pem"
    certificate_file.write_text(issued.json()["certificate"])
    key_file = tmp_path / "me.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    page, watch = open_portal_page(browser, 1280, 900)
    try:
        page.goto(f"{server}/me/signin")
        page.get_by_label("证书文件（PEM）").set_input_files(str(certificate_file))
        page.get_by_label("私钥文件（PKCS#8 PEM，未加密）").set_input_files(str(key_file))
        page.get_by_role("button", name="用证书登录").click()
        page.wait_for_url("**/me")
        page.evaluate("window.smartcityPortal.ready")
        assert resident.name in page.locator("#me-greeting").inner_text()
        assert "数字证书" in page.locator("#profile-details").inner_text()
    finally:
        page.context.close()
    assert page_errors(watch) == []


def staff_token(server: str, employee_number: str = "GZ-GAJ-9002") -> str:
    answer = httpx.post(
        f"{server}/auth/token",
        data={"grant_type": "password", "username": employee_number, "password": DEMO_PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_inbox_updates_live_and_marks_read(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, 1280, 900)
    try:
        sign_in(page, server)
        account_id = page.evaluate("window.smartcityPortal.session.account.id")
        page.wait_for_function("() => window.smartcityPortal.stream?.readyState === 1")
        unread_before = page.evaluate("window.smartcityPortal.unread")
        sent = httpx.post(
            f"{server}/notify/messages",
            headers={"Authorization": f"Bearer {staff_token(server)}"},
            json={
                "account_id": account_id,
                "template": "message",
                "params": {"title": "停水通知（测试）", "body": "明天 9:00-12:00 停水。"},
            },
        )
        assert sent.status_code in (200, 201, 202), sent.text
        # No reload: the message arrives over the stream.
        item = page.locator("#inbox-list li", has_text="停水通知（测试）")
        item.wait_for()
        page.wait_for_function(
            "(before) => window.smartcityPortal.unread === before + 1", arg=unread_before
        )
        assert page.locator("#inbox-badge").inner_text() == str(unread_before + 1)
        item.get_by_role("button", name="标为已读").click()
        page.wait_for_function(
            "(before) => window.smartcityPortal.unread === before", arg=unread_before
        )
        assert (
            page.locator("#inbox-list li", has_text="停水通知（测试）")
            .get_by_role("button")
            .count()
            == 0
        )
    finally:
        page.context.close()
    assert page_errors(watch) == []


def test_a_targeted_notice_finds_the_matching_citizen_only(
    browser: Any,  # noqa: F811 - the fixture imported above
    server: str,
    residents: list[Resident],
) -> None:
    matching, other = residents[2], residents[3]
    password = "targeted-resident-2026"
    open_account(server, matching, password)
    open_account(server, other, password)
    title = "羽毛球场地免费开放（测试）"

    # The matching citizen declares an interest on their page.
    page, watch = open_portal_page(browser, 1280, 900)
    try:
        sign_in(page, server, matching.national_id, password)
        page.locator("#profile-edit summary").click()
        page.get_by_label("体育健身").check()
        page.get_by_role("button", name="保存").click()
        page.locator("#profile-form").get_by_text("已保存").wait_for()

        # Staff publish a notice to everyone interested in sport.
        bearer = {"Authorization": f"Bearer {staff_token(server)}"}
        notice = httpx.post(
            f"{server}/api/targeting/notices",
            headers=bearer,
            json={
                "title_zh": title,
                "title_en": "Badminton courts open free (test)",
                "body_zh": "本周末区体育馆羽毛球场免费开放。",
                "body_en": "The district gym's badminton courts are free this weekend.",
                "audience": {"kind": "interests", "any_of": ["sport"]},
            },
        )
        assert notice.status_code == 201, notice.text
        published = httpx.post(
            f"{server}/api/targeting/notices/{notice.json()['id']}/publish",
            headers=bearer,
            timeout=60,
        )
        assert published.status_code == 200, published.text

        # It arrives in the inbox without a reload, and under "notices for me" after one.
        page.locator("#inbox-list li", has_text=title).wait_for()
        page.reload()
        page.evaluate("window.smartcityPortal.ready")
        page.locator("#notices-list li", has_text=title).wait_for()
    finally:
        page.context.close()
    assert page_errors(watch) == []

    page, watch = open_portal_page(browser, 1280, 900)
    try:
        sign_in(page, server, other.national_id, password)
        notices = page.locator("#notices-body")
        notices.locator("p, ul").first.wait_for()
        assert title not in notices.inner_text()
        assert title not in page.locator("#inbox").inner_text()
    finally:
        page.context.close()
    assert page_errors(watch) == []


def test_comment_on_a_policy_draft_and_tick_a_journey_step(
    browser: Any,  # noqa: F811 - the fixture imported above
    server: str,
    residents: list[Resident],
) -> None:
    resident = residents[4]
    password = "consulted-resident-2026"
    open_account(server, resident, password)
    page, watch = open_portal_page(browser, PHONE_WIDTH, 812)
    try:
        sign_in(page, server, resident.national_id, password)
        draft = page.locator("#drafts-body details").first
        draft.locator("summary").click()
        draft.get_by_label("我的意见").fill("建议在社区公告栏同步张贴意见稿。")
        draft.get_by_role("button", name="提交意见").click()
        draft.get_by_text("建议在社区公告栏同步张贴意见稿。").wait_for()
        draft.get_by_text("意见已提交").wait_for()

        journey = page.locator("#journeys-body details").first
        journey.locator("summary").click()
        journey.get_by_role("button", name="开始办理").click()
        first_step = journey.locator("input[type=checkbox]").first
        first_step.wait_for()
        first_step.check()
        journey.get_by_text("已完成 1/").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    finally:
        page.context.close()
    assert page_errors(watch) == []


def terminal_token(server: str) -> str:
    """A gate's token: a machine client with the card.terminal scope, made by an admin."""
    admin = staff_token(server, "GZ-BGT-9001")
    created = httpx.post(
        f"{server}/auth/clients",
        headers={"Authorization": f"Bearer {admin}"},
        json={"name": "gate-portal-test", "scopes": ["card.terminal"]},
    )
    assert created.status_code == 201, created.text
    client = created.json()
    answer = httpx.post(
        f"{server}/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_report_the_card_lost_and_see_taps_declined(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, PHONE_WIDTH, 812)
    try:
        sign_in(page, server)
        state = page.locator("#card-state")
        state.wait_for()
        assert state.get_attribute("data-status") == "active"
        card_number = page.evaluate(
            "async () => (await (await fetch('/api/card/mine', {headers: {Authorization: "
            "'Bearer ' + JSON.parse(sessionStorage.getItem('smartcity.portal.session'))"
            ".accessToken}})).json()).number"
        )
        gate = {"Authorization": f"Bearer {terminal_token(server)}"}
        before = httpx.post(
            f"{server}/api/card/taps",
            headers=gate,
            json={"transaction_id": "portal-T-1", "kind": "bus", "card_number": card_number},
        )
        assert before.status_code == 200, before.text
        assert before.json()["outcome"] == "approved"

        # Report lost: a confirmation first, then the card is frozen at once.
        page.get_by_role("button", name="挂失").click()
        confirm = page.get_by_role("group", name="确认挂失这张卡吗")
        confirm.get_by_role("button", name="确认挂失").click()
        page.locator("#card-status").get_by_text("已挂失").wait_for()
        assert page.locator("#card-state").get_attribute("data-status") == "frozen"

        after = httpx.post(
            f"{server}/api/card/taps",
            headers=gate,
            json={"transaction_id": "portal-T-2", "kind": "bus", "card_number": card_number},
        )
        assert after.status_code == 200, after.text
        assert after.json()["outcome"] == "declined"
        assert after.json()["reason"] == "card_frozen"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    finally:
        page.context.close()
    assert page_errors(watch) == []


def test_send_a_suggestion_with_errors_beside_their_fields(
    browser: Any,  # noqa: F811 - the fixture imported above
    server: str,
    residents: list[Resident],
) -> None:
    resident = residents[5]
    password = "suggesting-resident-2026"
    open_account(server, resident, password)
    page, watch = open_portal_page(browser, 1280, 900)
    try:
        sign_in(page, server, resident.national_id, password)
        section = page.locator("#suggestions-body")
        section.get_by_role("button", name="提交建议").click()
        assert page.locator("#suggestion-department").get_attribute("aria-invalid") == "true"
        section.get_by_label("建议给哪个部门").select_option("GZ-JTJ")
        section.get_by_label("标题", exact=True).fill("增开夜间公交")
        section.get_by_label("建议内容").fill("太短")
        section.get_by_role("button", name="提交建议").click()
        # The server judges the length: its answer sits under the text field.
        page.locator("#suggestion-body-error").wait_for()
        assert page.locator("#suggestion-body").get_attribute("aria-invalid") == "true"
        section.get_by_label("建议内容").fill(
            "建议在地铁末班车后增开夜间公交线路，方便夜班工作者回家。"
        )
        section.get_by_role("button", name="提交建议").click()
        section.get_by_text("建议已提交").wait_for()
        section.locator("li", has_text="增开夜间公交").get_by_text("等待部门答复").wait_for()
        assert unnamed_inputs(page) == []
    finally:
        page.context.close()
    assert page_errors(watch, expected=("/api/portal/suggestions",)) == []


def test_an_expired_access_token_is_refreshed(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, 1280, 900)
    try:
        sign_in(page, server)
        before = page.evaluate("JSON.parse(sessionStorage.getItem('smartcity.portal.session'))")
        # As if the access token had expired while the tab stayed open.
        page.evaluate(
            """() => {
              const session = JSON.parse(sessionStorage.getItem('smartcity.portal.session'));
              session.expiresAt = 0;
              sessionStorage.setItem('smartcity.portal.session', JSON.stringify(session));
            }"""
        )
        page.reload()
        page.evaluate("window.smartcityPortal.ready")
        assert page.locator("#bills-open li").count() >= 0
        assert "演示市民" in page.locator("#me-greeting").inner_text()
        after = page.evaluate("JSON.parse(sessionStorage.getItem('smartcity.portal.session'))")
        assert after["accessToken"] != before["accessToken"]
        assert after["refreshToken"] != before["refreshToken"]
        assert after["expiresAt"] > 0
    finally:
        page.context.close()
    assert page_errors(watch) == []
