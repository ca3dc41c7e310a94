"""Every link an inbox message carries leads to a place the platform serves.

Links point into 我的主页 (``/me#<section>`` or ``/me#<kind>-<key>``, apps/portal/links.py):
the path must be a page the app serves, the fragment a section of that page or an item
kind its script (ui/static/anchors.mjs) knows how to find. Old links already delivered
(``/bills/…``, ``/receipts/…``, ``/my?notice=…``) redirect to the same places.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.apps.portal.links import ITEM_KINDS, SECTIONS, draft_link, suggestion_link
from smartcity.apps.targeting.actions import notice_link
from smartcity.kernel.config import Settings
from smartcity.kernel.notify.templates import LOCALES, shipped_templates
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

ANCHORS = Path(__file__).parents[3] / "src/smartcity/apps/portal/ui/static/anchors.mjs"
# A sample value per template parameter: keys shaped as the apps make them.
SAMPLES = {"bill_number": "B-2026-0001", "receipt_number": "R000000000042"}


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    platform = Platform.open(
        Settings(data_dir=tmp_path), apps=installed_apps(), store=store, migrate=False
    )
    with TestClient(create_app(platform)) as test_client:
        yield test_client


def template_links() -> list[tuple[str, str, str]]:
    """(template, locale, link) for every shipped template that writes its own link."""
    catalogue = shipped_templates()
    found = []
    for name in sorted(catalogue.names):
        for locale in LOCALES:
            template = catalogue.get(name, locale)
            if template.link is None or template.link.template == "${link}":
                continue  # no link, or the caller's own (checked below where it is made)
            params = {key: SAMPLES.get(key, "7") for key in template.parameters}
            link = template.render(params).link
            assert link is not None, name
            found.append((name, locale, link))
    return found


def code_links() -> list[str]:
    """Links the apps write themselves rather than through a template's link."""
    return [notice_link(12), draft_link(3), suggestion_link(4)]


def assert_leads_somewhere(client: TestClient, link: str) -> None:
    parts = urlsplit(link)
    assert not parts.scheme and not parts.netloc, f"{link}: our own pages only"
    page = client.get(parts.path, params={}, follow_redirects=False)
    assert page.status_code == 200, f"{link}: {parts.path} answers {page.status_code}"
    assert page.headers["content-type"].startswith("text/html"), link
    fragment = parts.fragment
    if not fragment:
        return
    if fragment in SECTIONS:
        assert f'id="{fragment}"' in page.text, f"{link}: no section {fragment} on the page"
        return
    kind, _, key = fragment.partition("-")
    assert kind in ITEM_KINDS and key, f"{link}: no such place on the page"


def test_the_shipped_templates_have_links_to_check() -> None:
    names = {name for name, _, _ in template_links()}
    assert {"bill_issued", "bill_due_soon", "receipt_ready", "card_frozen"} <= names


@pytest.mark.parametrize(("name", "locale", "link"), template_links())
def test_every_template_link_leads_to_a_page_the_app_serves(
    client: TestClient, name: str, locale: str, link: str
) -> None:
    assert link.startswith("/me#"), f"{name} ({locale}): {link}"
    assert_leads_somewhere(client, link)


@pytest.mark.parametrize("link", code_links())
def test_links_the_apps_write_lead_to_the_page(client: TestClient, link: str) -> None:
    assert_leads_somewhere(client, link)


def test_both_locales_link_to_the_same_place() -> None:
    by_template: dict[str, set[str]] = {}
    for name, _, link in template_links():
        by_template.setdefault(name, set()).add(link)
    assert all(len(links) == 1 for links in by_template.values()), by_template


def test_the_page_script_finds_every_item_kind() -> None:
    script = ANCHORS.read_text(encoding="utf-8")
    handled = set(re.findall(r"^  (\w+): \[", script, re.M))
    assert handled == set(ITEM_KINDS)
    sections = re.search(r"const SECTIONS = new Set\(\[(.*?)\]\)", script)
    assert sections is not None
    assert set(re.findall(r'"(\w+)"', sections.group(1))) == set(SECTIONS)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/bills/B-2026-0001", "/me#bill-B-2026-0001"),
        ("/receipts/R000000000042", "/me#receipt-R000000000042"),
        ("/my?notice=12", "/me#notice-12"),
        ("/my", "/me"),
    ],
)
def test_links_delivered_before_lead_to_the_same_places(
    client: TestClient, old: str, new: str
) -> None:
    answer = client.get(old, follow_redirects=False)
    assert answer.status_code == 308
    assert answer.headers["location"] == new


def test_an_old_link_with_a_strange_key_is_refused_not_redirected(client: TestClient) -> None:
    answer = client.get("/bills/a%0d%0aSet-Cookie:x", follow_redirects=False)
    assert answer.status_code in (404, 422)
    assert "location" not in answer.headers
