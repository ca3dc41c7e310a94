"""The q grammar (NGSI-LD clause 4.9) and type expressions."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.query.ast import (
    AllOf,
    AllTypes,
    AnyOf,
    AnyType,
    AttributePath,
    Comparison,
    Existence,
    Pattern,
    Query,
    TypeName,
    Value,
    ValueList,
    ValueRange,
)
from smartcity.kernel.context.query.grammar import expand_query, parse_q, parse_type_expression

from .strategies import queries

temperature = AttributePath("temperature")


def test_and_binds_tighter_than_or() -> None:
    assert parse_q('temperature>20;humidity<50|status=="ok"') == AnyOf(
        (
            AllOf(
                (
                    Comparison(temperature, ">", Value("number", 20)),
                    Comparison(AttributePath("humidity"), "<", Value("number", 50)),
                )
            ),
            Comparison(AttributePath("status"), "==", Value("text", "ok")),
        )
    )


def test_parentheses_group_and_nest() -> None:
    query = parse_q("a;((b|c);d)")
    assert query == AllOf(
        (
            Existence(AttributePath("a")),
            AllOf(
                (
                    AnyOf((Existence(AttributePath("b")), Existence(AttributePath("c")))),
                    Existence(AttributePath("d")),
                )
            ),
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.b.c==1", AttributePath("a", ("b", "c"))),
        (
            "temperature.observedAt>=2020-01-01T00:00:00Z",
            AttributePath("temperature", ("observedAt",)),
        ),
        ('address[city]=="Berlin"', AttributePath("address", (), ("city",))),
        ('address[street][name]=="Main"', AttributePath("address", (), ("street", "name"))),
        ("a.b[c]==1", AttributePath("a", ("b",), ("c",))),
    ],
)
def test_attribute_paths(text: str, expected: AttributePath) -> None:
    query = parse_q(text)
    assert isinstance(query, Comparison)
    assert query.attribute == expected


@pytest.mark.parametrize(
    ("text", "operand"),
    [
        ("a==-12", Value("number", -12)),
        ("a==1.5e-3", Value("number", 0.0015)),
        ('a=="say \\"hi\\""', Value("text", 'say "hi"')),
        ("a==true", Value("boolean", True)),
        ("a==2020-01-01T10:00:00+08:00", Value("datetime", "2020-01-01T10:00:00+08:00")),
        ("a==2020-01-31", Value("date", "2020-01-31")),
        ("a==12:30:00", Value("time", "12:30:00")),
        ("a==urn:ngsi-ld:Building:7", Value("uri", "urn:ngsi-ld:Building:7")),
        ("a==1..10", ValueRange(Value("number", 1), Value("number", 10))),
        ('a=="a".."z"', ValueRange(Value("text", "a"), Value("text", "z"))),
        (
            "a==2020-01-01..2020-12-31",
            ValueRange(Value("date", "2020-01-01"), Value("date", "2020-12-31")),
        ),
        ("a==1,2,3", ValueList((Value("number", 1), Value("number", 2), Value("number", 3)))),
        ('a!="x","y"', ValueList((Value("text", "x"), Value("text", "y")))),
    ],
)
def test_values(text: str, operand: object) -> None:
    query = parse_q(text)
    assert isinstance(query, Comparison)
    assert query.operand == operand


def test_patterns_quoted_or_bare() -> None:
    assert parse_q('name~="^A.*"') == Pattern(AttributePath("name"), "^A.*")
    assert parse_q("(name!~=(?i)x(a|b);b)") == AllOf(
        (Pattern(AttributePath("name"), "(?i)x(a|b)", negated=True), Existence(AttributePath("b")))
    )


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("temp>", 5),
        ('temp=="open', 6),
        ("(a==1", 5),
        ("a==abc", 3),
        ("a>true", 1),
        ("a>1..2", 1),
        ("a~=(", 3),
        ("a==1)", 4),
        ("a;;b", 2),
        ("a==1..true", 1),
        ("", 0),
    ],
)
def test_errors_name_position_and_token(text: str, position: int) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse_q(text)
    assert caught.value.details["position"] == position
    assert "token" in caught.value.details
    assert str(position) in caught.value.reason


def test_expansion_leaves_instance_members_and_keys() -> None:
    query = expand_query(
        parse_q("a.b.observedAt>=2020-01-01T00:00:00Z;c[k]==1"), lambda t: "x:" + t
    )
    assert isinstance(query, AllOf)
    first, second = query.terms
    assert isinstance(first, Comparison) and isinstance(second, Comparison)
    assert first.attribute == AttributePath("x:a", ("x:b", "observedAt"))
    assert second.attribute == AttributePath("x:c", (), ("k",))


@given(queries())
def test_printed_trees_parse_back(query: Query) -> None:
    assert parse_q(query.to_text()) == query


alphabet = 'ab.[]()=!<>~;|,"\\0123456789-:TZe '


@given(st.one_of(st.text(), st.text(alphabet)))
def test_any_text_parses_or_is_bad_request_data(text: str) -> None:
    with contextlib.suppress(BadRequestData):
        parse_q(text)


def test_type_expressions() -> None:
    assert parse_type_expression("A,B") == AnyType((TypeName("A"), TypeName("B")))
    assert parse_type_expression("(A;B)|C") == AnyType(
        (AllTypes((TypeName("A"), TypeName("B"))), TypeName("C"))
    )
    assert parse_type_expression("A;B|C;D") == AnyType(
        (AllTypes((TypeName("A"), TypeName("B"))), AllTypes((TypeName("C"), TypeName("D"))))
    )
    with pytest.raises(BadRequestData):
        parse_type_expression("(A;B")


@given(st.one_of(st.text(), st.text("AB;|,() ")))
def test_any_type_text_parses_or_is_bad_request_data(text: str) -> None:
    with contextlib.suppress(BadRequestData):
        parse_type_expression(text)
