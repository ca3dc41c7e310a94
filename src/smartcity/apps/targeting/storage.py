"""Reads of the targeting tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, and_, func, select

from smartcity.apps.targeting.models import (
    EventKind,
    EventView,
    NoticeCategory,
    NoticeStatus,
    NoticeView,
    ReachView,
)
from smartcity.apps.targeting.rules import dump_rule, load_rule
from smartcity.apps.targeting.tables import targeting_delivery, targeting_event, targeting_notice
from smartcity.kernel.errors import NotFound
from smartcity.kernel.identity.tables import identity_citizen
from smartcity.kernel.notify.tables import notify_message

PAGE_LIMIT = 200


def notice_view(row: Row[Any]) -> NoticeView:
    return NoticeView(
        id=row.id,
        department_code=row.department_code,
        title_zh=row.title_zh,
        title_en=row.title_en,
        body_zh=row.body_zh,
        body_en=row.body_en,
        category=NoticeCategory(row.category),
        audience=dump_rule(load_rule(row.audience)),
        publish_at=row.publish_at,
        expires_at=row.expires_at,
        status=NoticeStatus(row.status),
        matched=row.matched,
        delivered=row.delivered,
        created_at=row.created_at,
        published_at=row.published_at,
    )


def notice_row(conn: Connection, notice_id: int, *, lock: bool = False) -> Row[Any]:
    """The notice's row (locked for update on PostgreSQL with ``lock``), else NotFound."""
    statement = select(targeting_notice).where(targeting_notice.c.id == notice_id)
    if lock:
        statement = statement.with_for_update()
    row = conn.execute(statement).first()
    if row is None:
        raise NotFound(f"no notice {notice_id}", notice_id=notice_id)
    return row


def get_notice(conn: Connection, notice_id: int) -> NoticeView:
    return notice_view(notice_row(conn, notice_id))


def list_notices(
    conn: Connection, department_code: str | None, limit: int, offset: int
) -> list[NoticeView]:
    """Notices newest first, of one department (None: every department)."""
    statement = select(targeting_notice).order_by(targeting_notice.c.id.desc())
    if department_code is not None:
        statement = statement.where(targeting_notice.c.department_code == department_code)
    rows = conn.execute(statement.limit(limit).offset(offset))
    return [notice_view(row) for row in rows]


def reach_of(conn: Connection, notice_id: int) -> ReachView:
    """Matched, delivered and read counts of a notice."""
    row = notice_row(conn, notice_id)
    read = conn.execute(
        select(func.count())
        .select_from(
            targeting_delivery.join(
                notify_message, notify_message.c.id == targeting_delivery.c.message_id
            )
        )
        .where(targeting_delivery.c.notice_id == notice_id, notify_message.c.read_at.is_not(None))
    ).scalar_one()
    return ReachView(
        notice_id=notice_id,
        status=NoticeStatus(row.status),
        matched=row.matched,
        delivered=row.delivered,
        matched_no_account=row.matched - row.delivered,
        read=int(read),
    )


def person_of(conn: Connection, national_id: str) -> int | None:
    """The registry id of the person with ``national_id``."""
    found = conn.execute(
        select(identity_citizen.c.id).where(identity_citizen.c.national_id == national_id)
    ).first()
    return None if found is None else int(found[0])


def deliveries_of(conn: Connection, person_id: int) -> dict[int, tuple[int | None, bool]]:
    """notice id -> (inbox message id, read) of every notice delivered to the person."""
    rows = conn.execute(
        select(
            targeting_delivery.c.notice_id,
            targeting_delivery.c.message_id,
            notify_message.c.read_at,
        )
        .select_from(
            targeting_delivery.outerjoin(
                notify_message, notify_message.c.id == targeting_delivery.c.message_id
            )
        )
        .where(targeting_delivery.c.person_id == person_id)
    )
    return {
        row.notice_id: (
            None if row.message_id is None else int(row.message_id),
            row.read_at is not None,
        )
        for row in rows
    }


def live_notices(conn: Connection, now: Any) -> list[Row[Any]]:
    """Published (or publishing) notices not yet expired, newest first."""
    return list(
        conn.execute(
            select(targeting_notice)
            .where(
                targeting_notice.c.status.in_(
                    [NoticeStatus.PUBLISHED.value, NoticeStatus.PUBLISHING.value]
                ),
                targeting_notice.c.publish_at <= now,
                (targeting_notice.c.expires_at.is_(None)) | (targeting_notice.c.expires_at > now),
            )
            .order_by(targeting_notice.c.publish_at.desc(), targeting_notice.c.id.desc())
        )
    )


def due_notices(conn: Connection, now: Any) -> list[int]:
    """Notices whose delivery should run now: cut short, or scheduled and due."""
    rows = conn.execute(
        select(targeting_notice.c.id).where(
            (targeting_notice.c.status == NoticeStatus.PUBLISHING.value)
            | and_(
                targeting_notice.c.status == NoticeStatus.SCHEDULED.value,
                targeting_notice.c.publish_at <= now,
            )
        )
    )
    return [int(row[0]) for row in rows]


def list_events(conn: Connection, limit: int, offset: int) -> list[EventView]:
    rows = conn.execute(
        select(targeting_event).order_by(targeting_event.c.id.desc()).limit(limit).offset(offset)
    )
    return [
        EventView(
            id=row.id,
            kind=EventKind(row.kind),
            area_code=row.area_code,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            description=row.description,
            department_code=row.department_code,
        )
        for row in rows
    ]
