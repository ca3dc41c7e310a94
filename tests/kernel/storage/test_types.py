"""UtcDateTime: instants bind to the same SQLite text through the fused processor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from smartcity.kernel.storage.types import UtcDateTime

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
)


def chained_processor() -> object:
    """The processor SQLAlchemy would build without the fused one."""
    dialect = sqlite.dialect()
    return TypeDecorator.bind_processor(UtcDateTime().dialect_impl(dialect), dialect)


@given(st.datetimes(timezones=ZONES))
def test_sqlite_binds_the_text_the_usual_chain_binds(instant: datetime) -> None:
    dialect = sqlite.dialect()
    fused = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    chained = chained_processor()
    assert callable(fused) and callable(chained)
    assert outcome(fused, instant) == outcome(chained, instant)


def outcome(process: object, instant: datetime) -> object:
    """What ``process`` makes of ``instant``: its text, or the kind of error it raises."""
    assert callable(process)
    try:
        return process(instant)
    except OverflowError:  # an instant a few hours from datetime's range ends
        return OverflowError


def test_naive_instants_and_none() -> None:
    dialect = sqlite.dialect()
    fused = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert fused is not None
    assert fused(None) is None
    with pytest.raises(ValueError, match="no time zone"):
        fused(datetime(2026, 1, 1))


def test_instants_read_back_equal_on_sqlite() -> None:
    table = Table(
        "instants", MetaData(), Column("n", Integer, primary_key=True), Column("at", UtcDateTime)
    )
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    written = [
        datetime(2026, 11, 22, 1, 2, 3, 45, tzinfo=UTC),
        datetime(2026, 11, 22, 9, 2, 3, tzinfo=timezone(timedelta(hours=8))),
    ]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"n": n, "at": at} for n, at in enumerate(written)])
        read = [row.at for row in conn.execute(select(table).order_by(table.c.n))]
    assert read == written
    assert all(at.tzinfo is UTC for at in read)
