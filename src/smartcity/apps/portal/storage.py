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
    ContactPreferences,
    DepartmentView,
    DocumentView,
)
from smartcity.apps.portal.tables import portal_document, portal_journey, portal_profile
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
