"""我的主页 pages as HTML: rendered in the layout, in both languages, scripts from 'self'."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

PAGES = ("/me", "/me/signin", "/me/register")
STATIC = Path(__file__).parents[2] / "src/smartcity/apps/portal/ui/static"


@pytest.fixture
def portal_client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    platform = Platform.open(
        Settings(data_dir=tmp_path), apps=installed_apps(), store=store, migrate=False
    )
    with TestClient(create_app(platform)) as client:
        yield client


def page_config(html: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="portal-config">(.*?)</script>', html, re.S
    )
    assert match is not None
    config = json.loads(match.group(1))
    assert isinstance(config, dict)
    return config


@pytest.mark.parametrize("path", PAGES)
def test_page_is_served_in_chinese_by_default(portal_client: TestClient, path: str) -> None:
    response = portal_client.get(path)
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # No inline code: every <script> is either a module from /static or inert JSON.
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'type="application/json"' in tag or 'src="/static/' in tag, tag
    config = page_config(html)
    assert config["locale"] == "zh_CN"
    assert '<a href="/me"' in html and "我的主页" in html


@pytest.mark.parametrize("path", PAGES)
def test_page_is_translated_to_english(portal_client: TestClient, path: str) -> None:
    html = portal_client.get(path, params={"lang": "en"}).text
    assert '<html lang="en">' in html
    config = page_config(html)
    assert config["locale"] == "en"
    texts = config["text"]
    assert isinstance(texts, dict)
    # Every string the script shows is translated: no Chinese left in English pages.
    chinese = re.compile(r"[\u4e00-\u9fff]")
    for key, value in texts.items():
        values = value.values() if isinstance(value, dict) else [value]
        for text in values:
            assert not chinese.search(text), (key, text)
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    visible = re.sub(r"<script.*?</script>", "", main, flags=re.S)
    assert not chinese.search(visible)


def test_every_form_input_has_a_label(portal_client: TestClient) -> None:
    for path in ("/me/signin", "/me/register"):
        html = portal_client.get(path).text
        ids = re.findall(r"<input[^>]*\sid=\"([^\"]+)\"", html)
        assert ids
        for input_id in ids:
            assert f'<label for="{input_id}">' in html, (path, input_id)


def test_my_page_lists_the_installed_apps_for_its_sections(portal_client: TestClient) -> None:
    config = page_config(portal_client.get("/me").text)
    installed = config["installedApps"]
    assert isinstance(installed, list)
    assert {"payment", "portal"} <= set(installed)
    # Apps that do not exist yet are absent, so their sections say "not yet available".
    assert "complaints" not in installed


def test_page_scripts_are_served_as_javascript(portal_client: TestClient) -> None:
    for script in sorted(STATIC.glob("*.mjs")):
        response = portal_client.get(f"/static/apps/portal/{script.name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
