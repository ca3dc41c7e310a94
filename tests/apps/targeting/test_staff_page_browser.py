"""The 信息找人 staff page in a real browser (Debian's Chromium driven by Playwright).

Reuses the operations page test's server (a tiny seeded city served by uvicorn) and
browser fixtures. Run alone with ``uv run pytest -m browser tests/apps/targeting``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx
import pytest

from smartcity.sim.accounts import DEMO_CITIZEN, DEMO_PASSWORD
from tests.web.test_ops_page_browser import browser, open_page, server

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # fixtures used by name below

SCREENSHOT_PHONE = "/tmp/targeting-phone.png"


def _citizen_notices(base_url: str) -> list[str]:
    token = httpx.post(
        f"{base_url}/auth/token",
        data={"grant_type": "password", "username": DEMO_CITIZEN, "password": DEMO_PASSWORD},
    ).json()["access_token"]
    answer = httpx.get(
        f"{base_url}/api/targeting/mine", headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return [notice["title"] for notice in answer.json()]


def test_staff_author_preview_and_publish_a_notice(browser: Any, server: str) -> None:
    # A phone-sized window: the page must work there too.
    page, watch = open_page(browser, 390, 844)
    try:
        page.goto(f"{server}/targeting")
        assert page.locator("#targeting-workspace").is_hidden()  # until signed in
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.get_by_label("工号").fill("GZ-BGT-9001")
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_label("标题（中文）").wait_for()
        assert page.locator("#targeting-signin").is_hidden()
        page.get_by_label("标题（中文）").fill("成年居民健康讲座")
        page.get_by_label("标题（英文）").fill("Health talk for adults")
        page.get_by_label("正文（中文）").fill("本周六在社区服务中心举办健康讲座。")
        page.get_by_label("正文（英文）").fill(
            "A health talk this Saturday at the community centre."
        )
        page.get_by_label("受众规则（JSON）").fill(
            json.dumps({"kind": "age", "min": 18, "max": 60})
        )
        page.get_by_role("button", name="预估触达").click()
        result = page.locator("#targeting-result")
        result.get_by_text("匹配人数").wait_for()
        assert "其中有账户" in result.inner_text()
        page.get_by_role("button", name="发布", exact=True).click()
        result.get_by_text("已发布").wait_for()
        row = page.locator("#targeting-notices tr", has_text="成年居民健康讲座")
        row.wait_for()
        cells = row.locator("td").all_inner_texts()
        assert cells[1] == "已发布"
        assert int(cells[2].replace(",", "")) > 0  # matched
        assert int(cells[3].replace(",", "")) >= 1  # the demo citizen (born 1985) has an account
        page.screenshot(path=SCREENSHOT_PHONE, full_page=True)
    finally:
        page.context.close()
    assert watch.outside_requests() == []
    assert watch.errors == []
    assert "成年居民健康讲座" in _citizen_notices(server)
