"""Column types that differ between backends.

``GeometryType`` stores a shapely geometry (WGS 84). On PostgreSQL it is a PostGIS
``geometry(Geometry, 4326)`` column, so spatial SQL and GiST indexes work there; on SQLite
it is the geometry's WKB in a BLOB, and spatial questions are answered by the in-memory
index in ``kernel/geo``. We keep this small type instead of GeoAlchemy2 because
GeoAlchemy2 supports SQLite only through SpatiaLite, which the embedded default avoids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import DateTime, LargeBinary, func
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, UserDefinedType

SRID = 4326


def _to_wkb(value: BaseGeometry | None) -> bytes | None:
    if value is None:
        return None
    return bytes(shapely.to_wkb(value))


def _from_wkb(value: Any) -> BaseGeometry | None:
    if value is None:
        return None
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, str):  # hex WKB
        return shapely.from_wkb(bytes.fromhex(value))
    geometry: BaseGeometry = shapely.from_wkb(value)
    return geometry


class _PostGISGeometry(UserDefinedType[BaseGeometry]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return f"geometry(Geometry,{SRID})"

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        return func.ST_GeomFromWKB(bindvalue, SRID, type_=self)

    def column_expression(self, colexpr: Any) -> ColumnElement[Any]:
        return func.ST_AsBinary(colexpr, type_=self)

    def bind_processor(self, dialect: Dialect) -> Any:
        return _to_wkb

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        return _from_wkb


class _WKBGeometry(TypeDecorator[BaseGeometry]):
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> bytes | None:
        return _to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        return _from_wkb(value)


GeometryType = _WKBGeometry().with_variant(_PostGISGeometry(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC and always read back timezone-aware.

    PostgreSQL's ``timestamptz`` does this itself; SQLite has no time zones, and plain
    ``DateTime(timezone=True)`` there silently drops the offset (08:00+08:00 would come
    back as a naive 08:00). Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no time zone; use UTC")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite one function from an aware instant to SQLite's text, else the usual.

        The usual chain (``process_bind_param``, then SQLite's own ``DATETIME``
        formatting through a dict) costs ~3 µs per value; every history and attribute
        row binds two or three instants. The fused one is used only if it writes the
        very text the chain writes (checked once per dialect).
        """
        chained = super().bind_processor(dialect)
        if dialect.name != "sqlite" or chained is None:
            return chained
        sample = datetime(2026, 11, 22, 1, 2, 3, 45, tzinfo=UTC)
        if chained(sample) != sqlite_utc_text(sample):  # pragma: no cover - a changed format
            return chained
        return sqlite_utc_text


# Instants bound lately, and their text: a write binds its own time in several rows
# (the entity's modifiedAt, the attribute's, the history row's), a stored createdAt
# again at every update. Equal aware instants have equal UTC text. Cleared when full.
_texts: dict[datetime, str] = {}
_TEXTS_KEPT = 4096


def sqlite_utc_text(value: datetime | None) -> str | None:
    """An aware instant as SQLite's ``DATETIME`` stores it: UTC, naive, microseconds."""
    if value is None:
        return None
    known = _texts.get(value)
    if known is not None:
        return known
    zone = value.tzinfo
    if zone is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone; use UTC")
    # "YYYY-MM-DD HH:MM:SS.ffffff+00:00" without its offset.
    text = (value if zone is UTC else value.astimezone(UTC)).isoformat(" ", "microseconds")[:26]
    if len(_texts) >= _TEXTS_KEPT:
        _texts.clear()
    _texts[value] = text
    return text
