"""The sections the citizen page fills itself: bills, wallet, inbox, documents.

Bills and the wallet come from the payment app's ``api`` (a declared dependency), the
inbox from ``kernel/notify``; all read in the request's own connection, never over HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartcity.apps.payment.api import PayerKind, bills_due, wallet
from smartcity.apps.portal import storage
from smartcity.apps.portal.profile import citizen_of
from smartcity.apps.portal.runtime import PortalRuntime
from smartcity.apps.portal.sections import MyPageSection, SectionRegistry
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.notify.queries import unread_counts
from smartcity.kernel.platform import Platform

# Bills listed on the page before "show all".
NEXT_BILLS = 3


def bills_section(platform: Platform, principal: Principal) -> Mapping[str, Any]:
    with platform.store.connect() as conn:
        due = bills_due(conn, PayerKind.CITIZEN, principal.subject, first=NEXT_BILLS)
    return {
        "count": due.count,
        "total_due_fen": due.total_fen,
        "next": [
            {
                "id": bill.id,
                "biller_code": bill.biller_code,
                "amount_fen": bill.amount_fen,
                "period": bill.period,
                "due_date": bill.due_date.isoformat(),
            }
            for bill in due.next
        ],
    }


def wallet_section(platform: Platform, principal: Principal) -> Mapping[str, Any]:
    with platform.store.connect() as conn:
        found = wallet(conn, PayerKind.CITIZEN, principal.subject)
    return {"balance_fen": found.balance_fen, "available_fen": found.available_fen}


def inbox_section(platform: Platform, principal: Principal) -> Mapping[str, Any]:
    with platform.store.connect() as conn:
        counts = unread_counts(conn, principal.account_id)
    return {"unread": sum(counts.values()), "unread_by_category": counts}


def documents_section(platform: Platform, principal: Principal) -> Mapping[str, Any]:
    citizen = citizen_of(platform, principal)
    quota = platform.state("portal", PortalRuntime).settings.quota_bytes
    with platform.store.connect() as conn:
        count, used = storage.document_usage(conn, citizen.id)
    return {"count": count, "used_bytes": used, "quota_bytes": quota}


def register_own_sections(registry: SectionRegistry) -> None:
    registry.register(MyPageSection("bills", "待缴账单", "Bills due", bills_section, 10))
    registry.register(MyPageSection("wallet", "钱包余额", "Wallet", wallet_section, 20))
    registry.register(MyPageSection("inbox", "消息", "Inbox", inbox_section, 30))
    registry.register(MyPageSection("documents", "我的材料", "My documents", documents_section, 40))
