"""Columns of values as the driver takes them, and PostgreSQL arrays in binary form.

A batch sends thousands of values per column: each is converted once per *distinct*
value (a batch shares one ``now`` and often one ``observedAt``), and on PostgreSQL a
column goes as one array, encoded here (:func:`binary_array`) rather than by psycopg's
list dumper, which calls Python per element. The statements over such arrays are
built by :mod:`smartcity.kernel.context.array_inserts`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import chain, repeat
from typing import Any, cast

from psycopg.abc import Buffer
from psycopg.adapt import Dumper
from psycopg.pq import Format


def convert_column(column: list[Any], processor: Callable[[Any], Any]) -> list[Any]:
    """``processor`` applied to every value, once per distinct value when they hash."""
    try:
        distinct = set(column)
    except TypeError:  # unhashable values
        return list(map(processor, column))
    if len(distinct) * 2 > len(column):
        # Mostly distinct (numbers): one pass, no table to build.
        return list(map(processor, column))
    # Built in C (zip, map): a dict comprehension is a Python loop per value.
    table = dict(zip(distinct, map(processor, distinct), strict=True))
    return list(map(table.__getitem__, column))


_I32 = struct.Struct(">i")
_F64 = struct.Struct(">d")
_I64 = struct.Struct(">q")
_NULL = _I32.pack(-1)
_EIGHT = _I32.pack(8)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _text_element(value: str) -> bytes:
    data = value.encode()
    return _I32.pack(len(data)) + data


def _float_element(value: float) -> bytes:
    return _EIGHT + _F64.pack(value)


def _instant_element(value: datetime) -> bytes:
    return _EIGHT + _I64.pack((value - _EPOCH) // _MICROSECOND)


class BinaryArray(bytes):
    """A one-dimensional PostgreSQL array in binary form, sent as it is (``%b``)."""

    oid = 0


class _TextArray(BinaryArray):
    oid = 1009


class _FloatArray(BinaryArray):
    oid = 1022


class _InstantArray(BinaryArray):
    oid = 1185


# By the PostgreSQL type of the element: the array's class, the element's type oid and
# its encoding (the element's length, then its bytes: the binary array format).
_ARRAYS: dict[str, tuple[type[BinaryArray], int, Callable[[Any], bytes]]] = {
    "text": (_TextArray, 25, _text_element),
    "float8": (_FloatArray, 701, _float_element),
    "timestamptz": (_InstantArray, 1184, _instant_element),
}


def binary_array(type_: str, values: Sequence[Any]) -> BinaryArray:
    """``values`` (of PostgreSQL type ``type_``, or None) as a binary array.

    psycopg's own list dumper calls Python per element and per level and cost the
    client ~15 ms per 10,000 values; here each distinct element is encoded once and
    the array is one ``join``.
    """
    cls, element, encode = _ARRAYS[type_]
    null = None in values
    header = struct.pack(">iiiii", 1, int(null), element, len(values), 1)
    if type_ == "float8" and not null:
        # Numbers are mostly distinct: every element's length and value in one call
        # (-75% against a Python call per element).
        elements = chain.from_iterable(zip(repeat(8), values))
        return cls(header + struct.pack(">" + "id" * len(values), *elements))

    def encoded(value: Any) -> bytes:
        return _NULL if value is None else encode(value)

    return cls(header + b"".join(convert_column(list(values), encoded)))


class _ArrayDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> Buffer:
        return cast(bytes, obj)


_DUMPERS = [
    (cls, type(f"{cls.__name__}Dumper", (_ArrayDumper,), {"oid": cls.oid}))
    for cls, _element, _encode in _ARRAYS.values()
]


def adapt_arrays(driver: Any) -> None:
    """Teach a psycopg connection to send :class:`BinaryArray` values as they are."""
    adapters = driver.adapters
    for cls, dumper in _DUMPERS:
        adapters.register_dumper(cls, dumper)
