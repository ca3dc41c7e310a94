"""我的市民卡 and inbox links on 我的主页, in Debian's Chromium driven by Playwright.

Top up a purse from the wallet (errors beside the field), switch the card's functions
with the keyboard and see a terminal honour it, bind a phone NFC token and revoke it,
and follow inbox links to the bill, receipt and notice they name. Run these alone with
``uv run pytest -m browser tests/web/test_portal_card_browser.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.web.test_ops_page_browser import browser, serve_city  # noqa: F401 - fixture
from tests.web.test_portal_browser import (
    PHONE_WIDTH,
    open_portal_page,
    page_errors,
    seed_city_with_apps,
    sign_in,
    staff_token,
    terminal_token,
    unnamed_inputs,
    wallet_fen,
)

pytestmark = pytest.mark.browser

SCREENSHOT_CARD = Path("/tmp/portal-card-phone-en.png")
ACCESS_TOKEN = "JSON.parse(sessionStorage.getItem('smartcity.portal.session')).accessToken"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over a seeded tiny city of its own (these tests change the card)."""
    data_dir = tmp_path_factory.mktemp("portal-card-city")
    seed_city_with_apps(data_dir)
    with serve_city(data_dir) as base_url:
        yield base_url


def my_card(page: Any) -> dict[str, Any]:
    """The signed-in citizen's card, as the API tells it."""
    card: dict[str, Any] = page.evaluate(
        "async () => (await (await fetch('/api/card/mine', {headers: {Authorization: "
        f"'Bearer ' + {ACCESS_TOKEN}}}}})).json())"
    )
    return card


def purse_fen(page: Any, purse: str) -> int:
    return int(
        page.locator(f'#card-purses li[data-purse="{purse}"] strong').get_attribute("data-fen")
    )


def tap(server: str, gate: dict[str, str], transaction_id: str, **named: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{server}/api/card/taps",
        headers=gate,
        json={"transaction_id": transaction_id, "kind": "bus", **named},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_top_up_the_transit_purse_from_the_wallet_on_a_phone(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, PHONE_WIDTH, 812)
    try:
        sign_in(page, server)
        page.locator("#card-top-up").wait_for()
        wallet_before = wallet_fen(page)
        purse_before = purse_fen(page, "transit")
        form = page.locator("#card-top-up")
        amount = form.get_by_label("充值金额（元）")
        error = page.locator("#card-top-up-error")

        # Not an amount: said beside the field, which is marked and keeps the focus.
        amount.fill("12.345")
        form.get_by_role("button", name="确认充值").click()
        error.get_by_text("最多两位小数").wait_for()
        assert amount.get_attribute("aria-invalid") == "true"
        assert page.evaluate("document.activeElement.id") == "card-top-up-amount"
        assert "card-top-up-error" in (amount.get_attribute("aria-describedby") or "")

        # More than the wallet holds: the server refuses, the page says why, beside the field.
        too_much = wallet_before + 100
        amount.fill(f"{too_much // 100}.{too_much % 100:02d}")
        form.get_by_role("button", name="确认充值").click()
        error.get_by_text("平台钱包余额不足").wait_for()
        assert purse_fen(page, "transit") == purse_before
        assert wallet_fen(page) == wallet_before

        # 12.50 yuan is 1,250 fen out of the wallet and into the purse.
        form.get_by_label("充值到").select_option("transit")
        amount.fill("12.5")
        form.get_by_role("button", name="确认充值").click()
        page.locator("#card-status").get_by_text("已向交通钱包充值").wait_for()
        assert purse_fen(page, "transit") == purse_before + 1250
        page.wait_for_function(
            "(before) => Number(document.querySelector('#wallet-balance').dataset.fen) === before",
            arg=wallet_before - 1250,
        )
        assert page.locator("#card-top-up-error").is_hidden()
        page.locator("#card-movements summary").click()
        page.locator("#card-movements li", has_text="充值").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        assert unnamed_inputs(page) == []
    finally:
        page.context.close()
    assert page_errors(watch, expected=("/api/card/mine/top-ups",)) == []


def test_switch_a_function_off_with_the_keyboard_and_a_gate_declines(
    browser: Any,  # noqa: F811 - the fixture imported above
    server: str,
) -> None:
    page, watch = open_portal_page(browser, 1280, 900)
    gate = {"Authorization": f"Bearer {terminal_token(server)}"}
    try:
        sign_in(page, server)
        transit = page.get_by_role("switch", name="公共交通")
        transit.wait_for()
        assert transit.is_checked()
        number = my_card(page)["number"]

        transit.focus()
        page.keyboard.press("Space")
        page.locator("#card-functions-status").get_by_text("已关闭：公共交通").wait_for()
        assert not transit.is_checked()
        # The keyboard focus stays on the switch: it can go straight back on.
        assert page.evaluate("document.activeElement.id") == "card-function-transit"
        enabled = {f["function"]: f["enabled"] for f in my_card(page)["functions"]}
        assert enabled["transit"] is False and enabled["library"] is True
        declined = tap(server, gate, "fn-T-1", card_number=number)
        assert (declined["outcome"], declined["reason"]) == ("declined", "function_disabled")

        page.keyboard.press("Space")
        page.locator("#card-functions-status").get_by_text("已开启：公共交通").wait_for()
        assert transit.is_checked()
        assert tap(server, gate, "fn-T-2", card_number=number)["outcome"] == "approved"
        # Every function has its switch, named by its label.
        assert page.get_by_role("switch").count() == len(my_card(page)["functions"])
    finally:
        page.context.close()
    assert page_errors(watch) == []


def test_bind_a_phone_token_tap_with_it_and_revoke_it(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, PHONE_WIDTH, 812)
    gate = {"Authorization": f"Bearer {terminal_token(server)}"}
    try:
        sign_in(page, server)
        page.get_by_role("button", name="绑定新手机").click()
        page.locator("#card-tokens-status").get_by_text("已绑定").wait_for()
        # The token is shown this once, in a labelled field that has the focus.
        secret = page.locator("#card-new-token input")
        token = secret.input_value()
        assert len(token) >= 16
        assert page.evaluate("document.activeElement.readOnly") is True
        token_id = page.locator("#card-tokens li").first.get_attribute("data-token")
        name = f"手机卡 #{token_id}"
        assert page.get_by_label(f"{name} 的令牌").input_value() == token
        # Nothing keeps it: not the session storage, not the local storage.
        stored = page.evaluate("JSON.stringify({...sessionStorage, ...localStorage})")
        assert token not in stored

        assert tap(server, gate, "phone-T-1", token=token)["outcome"] == "approved"

        page.get_by_role("button", name=f"解绑：{name}").click()
        page.locator("#card-tokens-status").get_by_text(f"已解绑{name}").wait_for()
        item = page.locator(f'#card-tokens li[data-token="{token_id}"]')
        assert item.get_attribute("data-revoked") == "true"
        assert item.get_by_role("button").count() == 0
        assert token not in page.content()
        declined = tap(server, gate, "phone-T-2", token=token)
        assert (declined["outcome"], declined["reason"]) == ("declined", "token_revoked")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    finally:
        page.context.close()
    assert page_errors(watch) == []


def send_message(server: str, account_id: int, template: str, **params: Any) -> None:
    link = params.pop("link", None)
    body: dict[str, Any] = {"account_id": account_id, "template": template, "params": params}
    if link is not None:
        body["link"] = link
    sent = httpx.post(
        f"{server}/notify/messages",
        headers={"Authorization": f"Bearer {staff_token(server)}"},
        json=body,
    )
    assert sent.status_code == 201, sent.text


def test_inbox_links_lead_to_the_bill_the_receipt_and_the_notice(
    browser: Any,  # noqa: F811 - the fixture imported above
    server: str,
) -> None:
    page, watch = open_portal_page(browser, PHONE_WIDTH, 812)
    try:
        sign_in(page, server)
        account_id = page.evaluate("window.smartcityPortal.session.account.id")
        page.wait_for_function("() => window.smartcityPortal.stream?.readyState === 1")
        bills = page.locator("#bills-open li")
        assert bills.count() >= 2
        wanted = bills.nth(1)
        bill_number = wanted.get_attribute("data-bill-number")
        send_message(
            server,
            account_id,
            "bill_due_soon",
            biller="测试水司",
            amount="12.00",
            due_date="2026-12-31",
            bill_number=bill_number,
        )
        # The message's title is a real link, reached with Tab and followed with Enter.
        link = page.locator("#inbox-list li", has_text="测试水司").get_by_role("link")
        link.wait_for()
        assert link.get_attribute("href") == f"/me#bill-{bill_number}"
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "(number) => document.activeElement?.dataset?.billNumber === number", arg=bill_number
        )
        assert "is-target" in (wanted.get_attribute("class") or "")
        assert page.url.endswith(f"#bill-{bill_number}")
        box = wanted.bounding_box()
        assert box is not None and 0 <= box["y"] < 812

        # Pay a bill: the receipt's message leads to it in the history, receipt open.
        first = bills.first
        paid_bill = first.get_attribute("data-bill")
        first.get_by_role("button", name="缴费").click()
        page.locator("#bills-status").get_by_text("已缴费").wait_for()
        receipt_link = page.locator("#inbox-list li", has_text="电子回单已生成").get_by_role("link")
        receipt_link.wait_for(timeout=30_000)
        receipt_link.click()
        paid = page.locator(f'#bills-paid li[data-bill="{paid_bill}"]')
        paid.locator(".receipt").get_by_text("回单号").wait_for()
        assert page.locator("#bills-history").get_attribute("open") is not None
        assert "is-target" in (paid.get_attribute("class") or "")

        # A notice that is not on the page (any more): its section, and a word why.
        send_message(
            server,
            account_id,
            "message",
            title="旧通知（测试）",
            body="已过期",
            link="/me#notice-999999",
        )
        old = page.locator("#inbox-list li", has_text="旧通知（测试）").get_by_role("link")
        old.click()
        page.locator("#me-place").get_by_text("已不在本页").wait_for()
        assert page.evaluate("document.activeElement.id") == "notices-heading"
    finally:
        page.context.close()
    assert page_errors(watch) == []


def test_opening_a_link_in_english_lands_on_the_bill(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, PHONE_WIDTH, 812)
    try:
        sign_in(page, server)
        bill_number = page.locator("#bills-open li").last.get_attribute("data-bill-number")
        # As if the link were opened from a phone's notification: a fresh page load.
        page.goto(f"{server}/me?lang=en#bill-{bill_number}")
        page.evaluate("window.smartcityPortal.ready")
        page.wait_for_function(
            "(number) => document.activeElement?.dataset?.billNumber === number", arg=bill_number
        )
        assert page.locator("h1").inner_text() == "My page"
        # The card section in English on a phone: labelled, and nothing wider than the screen.
        page.get_by_role("button", name="Bind a new phone").wait_for()
        page.get_by_role("switch", name="Library").wait_for()
        page.locator("#card-top-up").get_by_label("Amount (yuan)").wait_for()
        assert unnamed_inputs(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        page.locator("#card").screenshot(path=str(SCREENSHOT_CARD))
    finally:
        page.context.close()
    assert page_errors(watch) == []


def test_a_signed_out_link_signs_in_and_still_lands(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, 1280, 900)
    try:
        page.goto(f"{server}/me#card")
        page.wait_for_url("**/me/signin?next=*")
        sign_in_here(page)
        page.wait_for_url("**/me#card")
        page.evaluate("window.smartcityPortal.ready")
        page.wait_for_function("() => document.activeElement?.id === 'card'")
    finally:
        page.context.close()
    assert page_errors(watch) == []


def sign_in_here(page: Any) -> None:
    from smartcity.sim.accounts import DEMO_CITIZEN, DEMO_PASSWORD

    page.get_by_label("身份证号", exact=True).fill(DEMO_CITIZEN)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()


YUAN_CASES = [
    ("50", 5000),
    ("12.5", 1250),
    ("12.50", 1250),
    ("0.01", 1),
    (" 7 ", 700),
    ("7.", 700),
    ("00.10", 10),
    ("100000", 10_000_000),
    ("12.345", None),
    ("-1", None),
    ("1e3", None),
    ("1,000", None),
    ("", None),
    ("0.1.2", None),
]


def test_yuan_as_typed_becomes_exact_fen(browser: Any, server: str) -> None:  # noqa: F811
    page, watch = open_portal_page(browser, 1280, 900)
    try:
        page.goto(f"{server}/me/signin")
        answers = page.evaluate(
            """async (cases) => {
                 const { fenOfYuan } = await import('/static/apps/portal/card.mjs');
                 return cases.map(([typed]) => fenOfYuan(typed));
               }""",
            YUAN_CASES,
        )
        assert answers == [fen for _, fen in YUAN_CASES]
    finally:
        page.context.close()
    assert page_errors(watch) == []
