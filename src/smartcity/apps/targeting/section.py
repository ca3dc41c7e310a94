"""The "为您推送 Notices for you" section of the citizen's page (apps/portal)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.principal import AccountKind, Principal

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

# How many notices the page shows; the rest are at /api/targeting/mine.
SHOWN = 10


def notices_section(platform: Platform, principal: Principal) -> Mapping[str, Any]:
    """The citizen's live notices in both languages (the page picks one), newest first."""
    from smartcity.apps.targeting.actions import concerning, notice_link

    if principal.kind is not AccountKind.CITIZEN:
        raise PermissionDenied("only citizens have notices of their own")
    found = concerning(platform, principal.subject)
    return {
        "total": len(found),
        "unread": sum(1 for _, _, read in found if not read),
        "notices": [
            {
                "id": row.id,
                "title_zh": row.title_zh,
                "title_en": row.title_en,
                "body_zh": row.body_zh,
                "body_en": row.body_en,
                "category": row.category,
                "department_code": row.department_code,
                "publish_at": row.publish_at.isoformat(),
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                "message_id": message_id,
                "read": read,
                "link": notice_link(row.id),
            }
            for row, message_id, read in found[:SHOWN]
        ],
    }
