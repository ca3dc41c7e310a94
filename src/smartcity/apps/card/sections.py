"""The card's section of the citizen page (apps/portal): status, purses, today's transit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartcity.apps.card import storage
from smartcity.apps.card.permissions import holder_of
from smartcity.apps.portal.api import MyPageSection, register_section
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.platform import Platform


def my_card_section(platform: Platform, principal: Principal) -> Mapping[str, Any]:
    """What ``GET /api/card/mine`` answers, for the "my page" summary (NotFound: no card)."""
    national_id = holder_of(principal)
    with platform.store.connect() as conn:
        view = storage.card_view(
            conn, storage.current_card_row(conn, national_id), platform.clock.now()
        )
    data: Mapping[str, Any] = view.model_dump(mode="json")
    return data


def register_my_page_section(platform: Platform) -> None:
    register_section(
        platform, MyPageSection("card", "我的市民卡", "My citizen card", my_card_section, order=50)
    )
