"""Where messages lead: places on 我的主页, written ``/me#<place>``.

An inbox message carries a link; every link the platform writes must lead somewhere a
citizen can see. They all point into the page's sections: ``/me#<section>`` (the
section's ``id``) or ``/me#<kind>-<key>``, one item of a section, which the page script
(``ui/static/anchors.mjs``) scrolls to, highlights and focuses once the section has
loaded. Links written before this scheme (``/bills/<number>``, ``/receipts/<number>``,
``/my?notice=<id>``) are redirected here by ``page_routes``.
"""

from __future__ import annotations

MY_PAGE = "/me"

# The ``id`` of each section of /me (ui/templates/me.html).
SECTIONS: tuple[str, ...] = (
    "wallet",
    "bills",
    "inbox",
    "profile",
    "card",
    "notices",
    "documents",
    "more",
)

# One item of a section: ``/me#<kind>-<key>``. The key is a bill number, a receipt
# number (``R`` and the order id) or a row id.
ITEM_KINDS: tuple[str, ...] = ("bill", "receipt", "notice", "draft", "suggestion")


def section_link(section: str) -> str:
    """``/me#card``: a section of the page."""
    if section not in SECTIONS:
        raise ValueError(f"no section {section!r} on the citizen page")
    return f"{MY_PAGE}#{section}"


def item_link(kind: str, key: str | int) -> str:
    """``/me#bill-3301...``: one item of a section, highlighted when the page opens."""
    if kind not in ITEM_KINDS:
        raise ValueError(f"no item kind {kind!r} on the citizen page")
    return f"{MY_PAGE}#{kind}-{key}"


def draft_link(draft_id: int) -> str:
    """A policy draft, opened with its comments and the departments' replies."""
    return item_link("draft", draft_id)


def suggestion_link(suggestion_id: int) -> str:
    """One of my suggestions with the department's answer."""
    return item_link("suggestion", suggestion_id)
