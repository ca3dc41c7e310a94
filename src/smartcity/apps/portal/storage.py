"""Reading the citizen page's tables (the writing is in ``actions``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, Row, func, select

from smartcity.apps.portal.interests import parse_interests
from smartcity.apps.portal.models import (
    AreaView,
    CommentView,
    ContactPreferences,
    DepartmentView,
    DocumentView,
    DraftDetail,
    DraftStatus,
    DraftView,
    SuggestionView,
)
from smartcity.apps.portal.tables import (
    portal_comment,
    portal_document,
    portal_draft,
    portal_journey,
    portal_profile,
    portal_suggestion,
)
from smartcity.kernel.errors import NotFound
from smartcity.kernel.geo.tables import geo_area
from smartcity.kernel.identity.tables import identity_department


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def profile_row(conn: Connection, person_id: int) -> Row[Any] | None:
    return conn.execute(
        select(portal_profile).where(portal_profile.c.person_id == person_id)
    ).first()


def interests_of(row: Row[Any] | None) -> list[str]:
    return [] if row is None else parse_interests(row.interests)


def contact_of(row: Row[Any] | None) -> ContactPreferences:
    if row is None:
        return ContactPreferences()
    return ContactPreferences.model_validate(orjson.loads(row.contact))


def areas(conn: Connection, codes: Iterable[str]) -> dict[str, AreaView]:
    """Names of the areas among ``codes``; an unmapped code is answered without a name."""
    wanted = sorted(set(codes))
    rows = conn.execute(
        select(geo_area.c.code, geo_area.c.name, geo_area.c.name_en).where(
            geo_area.c.code.in_(wanted)
        )
    ).all()
    found = {row.code: AreaView(code=row.code, name=row.name, name_en=row.name_en) for row in rows}
    return {code: found.get(code, AreaView(code=code)) for code in wanted}


def document_usage(conn: Connection, person_id: int) -> tuple[int, int]:
    """How many documents the person keeps and their total size in bytes."""
    count, used = conn.execute(
        select(func.count(), func.coalesce(func.sum(portal_document.c.size_bytes), 0)).where(
            portal_document.c.person_id == person_id
        )
    ).one()
    return int(count), int(used)


def document_of_row(row: Row[Any]) -> DocumentView:
    return DocumentView(
        id=row.id,
        name=row.name,
        media_type=row.media_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        uploaded_at=row.uploaded_at,
    )


def documents_of(conn: Connection, person_id: int) -> list[DocumentView]:
    """The person's documents, newest first."""
    rows = conn.execute(
        select(portal_document)
        .where(portal_document.c.person_id == person_id)
        .order_by(portal_document.c.id.desc())
    ).all()
    return [document_of_row(row) for row in rows]


def document_of(conn: Connection, person_id: int, document_id: int) -> DocumentView:
    """The person's document; another person's is reported as absent, never as forbidden."""
    row = conn.execute(
        select(portal_document).where(
            portal_document.c.id == document_id, portal_document.c.person_id == person_id
        )
    ).first()
    if row is None:
        raise NotFound(f"you have no document {document_id}", document=document_id)
    return document_of_row(row)


def content_references(conn: Connection, sha256: str) -> int:
    """How many documents (of anyone) name this content."""
    return int(
        conn.execute(select(func.count()).where(portal_document.c.sha256 == sha256)).scalar_one()
    )


def departments(conn: Connection, codes: Iterable[str]) -> dict[str, DepartmentView]:
    """Names of the departments among ``codes``; an unknown code is answered without one."""
    wanted = sorted(set(codes))
    rows = conn.execute(
        select(
            identity_department.c.code, identity_department.c.name, identity_department.c.name_en
        ).where(identity_department.c.code.in_(wanted))
    ).all()
    found = {r.code: DepartmentView(code=r.code, name=r.name, name_en=r.name_en) for r in rows}
    return {code: found.get(code, DepartmentView(code=code)) for code in wanted}


def journey_row(conn: Connection, person_id: int, slug: str) -> Row[Any] | None:
    return conn.execute(
        select(portal_journey).where(
            portal_journey.c.person_id == person_id, portal_journey.c.slug == slug
        )
    ).first()


def done_steps_of(row: Row[Any] | None) -> set[str]:
    if row is None or not row.done_steps:
        return set()
    return set(row.done_steps.split(","))


def status_of(opens_at: dt.datetime, closes_at: dt.datetime, now: dt.datetime) -> DraftStatus:
    if now < opens_at:
        return DraftStatus.UPCOMING
    if now < closes_at:
        return DraftStatus.OPEN
    return DraftStatus.CLOSED


def draft_row(conn: Connection, draft_id: int) -> Row[Any]:
    row = conn.execute(select(portal_draft).where(portal_draft.c.id == draft_id)).first()
    if row is None:
        raise NotFound(f"no draft {draft_id}", draft=draft_id)
    return row


def _comment_counts(conn: Connection, draft_ids: list[int]) -> dict[int, int]:
    if not draft_ids:
        return {}
    rows = conn.execute(
        select(portal_comment.c.draft_id, func.count())
        .where(portal_comment.c.draft_id.in_(draft_ids))
        .group_by(portal_comment.c.draft_id)
    ).all()
    return {int(draft_id): int(count) for draft_id, count in rows}


def _draft_view(
    row: Row[Any], department: DepartmentView, comments: int, now: dt.datetime
) -> DraftView:
    return DraftView(
        id=row.id,
        department=department,
        title=row.title,
        body=row.body,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        status=status_of(row.opens_at, row.closes_at, now),
        comments=comments,
    )


def list_drafts(
    conn: Connection,
    now: dt.datetime,
    *,
    status: DraftStatus | None,
    department_code: str | None,
    include_upcoming: bool,
    limit: int,
    offset: int,
) -> list[DraftView]:
    """Drafts, the ones closing soonest first while open, newest first otherwise."""
    query = select(portal_draft)
    if not include_upcoming:
        query = query.where(portal_draft.c.opens_at <= now)
    if department_code is not None:
        query = query.where(portal_draft.c.department_code == department_code)
    if status is DraftStatus.OPEN:
        query = query.where(portal_draft.c.opens_at <= now, portal_draft.c.closes_at > now)
    elif status is DraftStatus.CLOSED:
        query = query.where(portal_draft.c.closes_at <= now)
    elif status is DraftStatus.UPCOMING:
        query = query.where(portal_draft.c.opens_at > now)
    rows = conn.execute(
        query.order_by(portal_draft.c.closes_at.desc(), portal_draft.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    names = departments(conn, [row.department_code for row in rows])
    counts = _comment_counts(conn, [row.id for row in rows])
    return [
        _draft_view(row, names[row.department_code], counts.get(row.id, 0), now) for row in rows
    ]


def comment_of(row: Row[Any]) -> CommentView:
    return CommentView(
        id=row.id,
        draft_id=row.draft_id,
        author=row.author,
        body=row.body,
        created_at=row.created_at,
        reply=row.reply,
        replied_at=row.replied_at,
    )


def draft_detail(conn: Connection, draft_id: int, now: dt.datetime) -> DraftDetail:
    row = draft_row(conn, draft_id)
    comments = [
        comment_of(c)
        for c in conn.execute(
            select(portal_comment)
            .where(portal_comment.c.draft_id == draft_id)
            .order_by(portal_comment.c.id)
        ).all()
    ]
    view = _draft_view(
        row, departments(conn, [row.department_code])[row.department_code], len(comments), now
    )
    return DraftDetail(**view.model_dump(), comment_list=comments)


def comment_row(conn: Connection, comment_id: int) -> Row[Any]:
    row = conn.execute(select(portal_comment).where(portal_comment.c.id == comment_id)).first()
    if row is None:
        raise NotFound(f"no comment {comment_id}", comment=comment_id)
    return row


def last_comment_at(conn: Connection, account_id: int) -> dt.datetime | None:
    value = conn.execute(
        select(func.max(portal_comment.c.created_at)).where(
            portal_comment.c.account_id == account_id
        )
    ).scalar_one()
    return aware(value)


def last_suggestion_at(conn: Connection, account_id: int) -> dt.datetime | None:
    value = conn.execute(
        select(func.max(portal_suggestion.c.created_at)).where(
            portal_suggestion.c.account_id == account_id
        )
    ).scalar_one()
    return aware(value)


def suggestion_row(conn: Connection, suggestion_id: int) -> Row[Any]:
    row = conn.execute(
        select(portal_suggestion).where(portal_suggestion.c.id == suggestion_id)
    ).first()
    if row is None:
        raise NotFound(f"no suggestion {suggestion_id}", suggestion=suggestion_id)
    return row


def list_suggestions(
    conn: Connection,
    *,
    department_code: str | None = None,
    account_id: int | None = None,
    replied_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[SuggestionView]:
    """Suggestions, newest first."""
    query = select(portal_suggestion)
    if department_code is not None:
        query = query.where(portal_suggestion.c.department_code == department_code)
    if account_id is not None:
        query = query.where(portal_suggestion.c.account_id == account_id)
    if replied_only:
        query = query.where(portal_suggestion.c.reply.is_not(None))
    rows = conn.execute(
        query.order_by(portal_suggestion.c.id.desc()).limit(limit).offset(offset)
    ).all()
    names = departments(conn, [row.department_code for row in rows])
    return [
        SuggestionView(
            id=row.id,
            department=names[row.department_code],
            author=row.author,
            title=row.title,
            body=row.body,
            created_at=row.created_at,
            reply=row.reply,
            replied_at=row.replied_at,
        )
        for row in rows
    ]
