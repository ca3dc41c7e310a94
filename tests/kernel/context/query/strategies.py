"""Hypothesis strategies for q syntax trees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from smartcity.kernel.context.query.ast import (
    ORDERED_KINDS,
    AllOf,
    AnyOf,
    AttributePath,
    Comparison,
    Existence,
    Pattern,
    Query,
    Value,
    ValueList,
    ValueRange,
)

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True)
keys = st.from_regex(r"[A-Za-z0-9 _.-]{1,6}", fullmatch=True)
paths = st.builds(
    AttributePath,
    names,
    st.lists(names, max_size=2).map(tuple),
    st.lists(keys, max_size=2).map(tuple),
)
instants = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 1, 1))

numbers = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
).map(lambda number: Value("number", number))
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8).map(
    lambda text: Value("text", text)
)
booleans = st.booleans().map(lambda flag: Value("boolean", flag))
datetimes = instants.map(
    lambda at: Value("datetime", at.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
)
dates = instants.map(lambda at: Value("date", at.strftime("%Y-%m-%d")))
times = instants.map(lambda at: Value("time", at.strftime("%H:%M:%S")))
uris = names.map(lambda name: Value("uri", f"urn:ngsi-ld:Thing:{name}"))
values = st.one_of(numbers, texts, booleans, datetimes, dates, times, uris)
ordered = {"number": numbers, "text": texts, "datetime": datetimes, "date": dates, "time": times}
regexes = st.sampled_from(["^a", "b.*c", "(x|y)", "[a-z]+$", r"\d{2}", "(?i)ok", r";|\)", 'q"uote'])


@st.composite
def comparisons(draw: Any) -> Comparison:
    path = draw(paths)
    shape = draw(st.sampled_from(["value", "range", "list"]))
    if shape == "range":
        kind = draw(st.sampled_from(sorted(ORDERED_KINDS)))
        operand: Any = ValueRange(draw(ordered[kind]), draw(ordered[kind]))
        return Comparison(path, draw(st.sampled_from(["==", "!="])), operand)
    if shape == "list":
        operand = ValueList(tuple(draw(st.lists(values, min_size=2, max_size=3))))
        return Comparison(path, draw(st.sampled_from(["==", "!="])), operand)
    value = draw(values)
    operators = ["==", "!=", ">", ">=", "<", "<="] if value.kind in ORDERED_KINDS else ["==", "!="]
    return Comparison(path, draw(st.sampled_from(operators)), value)


terms = st.one_of(
    comparisons(),
    st.builds(Existence, paths),
    st.builds(Pattern, paths, regexes, st.booleans()),
)


def queries(base: st.SearchStrategy[Any] = terms) -> st.SearchStrategy[Query]:
    """Nested AND/OR trees over ``base`` terms."""
    return st.recursive(
        base,
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda items: AllOf(tuple(items))),
            st.lists(children, min_size=2, max_size=3).map(lambda items: AnyOf(tuple(items))),
        ),
        max_leaves=8,
    )
