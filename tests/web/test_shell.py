"""The web shell: layout, language choice, static files, the vendor-file warning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.web import shell
from smartcity.web.i18n import LOCALE_COOKIE


def heading(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html)
    assert match is not None
    return match.group(1)


def test_page_defaults_to_chinese_with_accessible_layout(web_client: TestClient) -> None:
    response = web_client.get("/probe-page")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert heading(html) == "运营中心"
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert 'aria-label="主导航"' in html
    assert "English" in html and "中文" in html
    assert response.headers["content-language"] == "zh-CN"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert LOCALE_COOKIE not in response.cookies


def test_template_values_are_escaped(web_client: TestClient) -> None:
    html = web_client.get("/probe-page").text
    assert '<p id="visitor">&lt;script&gt;</p>' in html


def test_lang_query_switches_to_english_and_sets_the_cookie(web_client: TestClient) -> None:
    response = web_client.get("/probe-page?lang=en")
    assert '<html lang="en">' in response.text
    assert heading(response.text) == "Operations centre"
    assert "<title>Smart City Platform</title>" in response.text
    assert response.cookies[LOCALE_COOKIE] == "en"
    # The cookie alone now keeps the page in English.
    again = web_client.get("/probe-page")
    assert heading(again.text) == "Operations centre"


def test_accept_language_is_honoured_without_a_cookie(web_client: TestClient) -> None:
    response = web_client.get("/probe-page", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in response.text


def test_language_links_keep_the_rest_of_the_query(web_client: TestClient) -> None:
    html = web_client.get("/probe-page?district=440106").text
    assert 'href="/probe-page?district=440106&amp;lang=en"' in html


def test_root_redirects_to_the_first_page_keeping_the_query(web_client: TestClient) -> None:
    response = web_client.get("/?lang=en", follow_redirects=False)
    assert response.status_code == 307
    # The probe app has no navigation entry, so home is the API documentation.
    assert response.headers["location"] == "/docs?lang=en"


def test_static_files_are_served(web_client: TestClient) -> None:
    css = web_client.get("/static/css/shell.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    app_script = web_client.get("/static/apps/probe/probe.js")
    assert app_script.status_code == 200
    assert "javascript" in app_script.headers["content-type"]


def test_missing_static_file_is_a_404_problem(web_client: TestClient) -> None:
    response = web_client.get("/static/nothing.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_missing_vendor_files_show_the_make_assets_notice(
    web_client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shell, "VENDOR_DIRECTORY", tmp_path)
    html = web_client.get("/probe-page").text
    assert 'role="alert"' in html
    assert "make assets" in html
    assert "echarts.min.js" in html


def test_present_vendor_files_show_no_notice(
    web_client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "echarts.min.js").write_text("/* echarts */")
    monkeypatch.setattr(shell, "VENDOR_DIRECTORY", tmp_path)
    assert "make assets" not in web_client.get("/probe-page").text
