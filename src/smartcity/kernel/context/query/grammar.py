"""Parsers of the NGSI-LD ``q`` language (clause 4.9) and of type expressions.

``q``::

    Query      := AndQuery ('|' AndQuery)*          ; AND binds tighter than OR
    AndQuery   := Primary (';' Primary)*
    Primary    := '(' Query ')' | Term
    Term       := Attribute [Operator Operand] | Attribute ('~=' | '!~=') Regex
    Attribute  := Name ('.' Name)* ('[' Key ']')*   ; sub-attributes, then keys in the value
    Operand    := Value | Value '..' Value | Value (',' Value)+
    Value      := Number | "quoted text" | true | false | DateTime | Date | Time | URI

A regex is a quoted string, or bare text that runs to the next ``;``/``|``/``)`` outside
its own parentheses. Every error is a :class:`BadRequestData` naming the position (0-based
character offset) and the offending token.

Type expressions (v1.6): ``A,B`` and ``A|B`` (any), ``A;B`` (all), parentheses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, time

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.query.ast import (
    INSTANCE_MEMBERS,
    ORDERED_KINDS,
    AllOf,
    AllTypes,
    AnyOf,
    AnyType,
    AttributePath,
    Comparison,
    Existence,
    Operand,
    Pattern,
    Query,
    Term,
    TypeExpression,
    TypeName,
    Value,
    ValueList,
    ValueRange,
)

MAX_QUERY_LENGTH = 8192
MAX_NESTING = 32
MAX_REGEX_LENGTH = 1024

NAME = re.compile(r"[A-Za-z0-9_:/#@\-]+")
KEY = re.compile(r"[^\[\]\"\\]+")
OPERATORS: tuple[str, ...] = ("!~=", "~=", "==", "!=", ">=", "<=", ">", "<")
VALUE_END = frozenset(';|(),"')
NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
INTEGER = re.compile(r"-?\d+")
DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?"
)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TIME = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?Z?")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
TYPE_NAME = re.compile(r"[^;|,()\s]+")
# Literals that may name a vocabulary term (a VocabProperty compares its terms with them).
VOCABULARY_KINDS = frozenset({"text", "uri"})


def _error(what: str, text: str, position: int, token: str | None = None) -> BadRequestData:
    if token is None:
        token = text[position : position + 20] if position < len(text) else "end of query"
    return BadRequestData(
        f"{what}: {token!r} at position {position}", position=position, token=token
    )


class _QueryParser:
    """Recursive descent over one ``q`` string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.depth = 0

    def parse(self) -> Query:
        if not self.text:
            raise BadRequestData("q is empty at position 0", position=0, token="")
        if len(self.text) > MAX_QUERY_LENGTH:
            raise BadRequestData(
                f"q is longer than {MAX_QUERY_LENGTH} characters",
                position=MAX_QUERY_LENGTH,
                token=self.text[MAX_QUERY_LENGTH : MAX_QUERY_LENGTH + 20],
            )
        query = self._any_of()
        if self.position != len(self.text):
            raise _error("q: unexpected", self.text, self.position)
        return query

    def _peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def _any_of(self) -> Query:
        terms = [self._all_of()]
        while self._peek() == "|":
            self.position += 1
            terms.append(self._all_of())
        return terms[0] if len(terms) == 1 else AnyOf(tuple(terms))

    def _all_of(self) -> Query:
        terms = [self._primary()]
        while self._peek() == ";":
            self.position += 1
            terms.append(self._primary())
        return terms[0] if len(terms) == 1 else AllOf(tuple(terms))

    def _primary(self) -> Query:
        if self._peek() != "(":
            return self._term()
        start = self.position
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _error(f"q: more than {MAX_NESTING} nested parentheses", self.text, start)
        self.position += 1
        query = self._any_of()
        if self._peek() != ")":
            raise _error(
                "q: expected ')' to close the '(' at " + str(start), self.text, self.position
            )
        self.position += 1
        self.depth -= 1
        return query

    def _name(self, what: str) -> str:
        match = NAME.match(self.text, self.position)
        if match is None:
            raise _error(f"q: expected {what}", self.text, self.position)
        self.position = match.end()
        return match.group()

    def _attribute(self) -> AttributePath:
        name = self._name("an attribute name")
        sub_attributes: list[str] = []
        while self._peek() == ".":
            self.position += 1
            sub_attributes.append(self._name("a sub-attribute name after '.'"))
        keys: list[str] = []
        while self._peek() == "[":
            self.position += 1
            match = KEY.match(self.text, self.position)
            if match is None:
                raise _error("q: expected a key inside '[...]'", self.text, self.position)
            self.position = match.end()
            if self._peek() != "]":
                raise _error("q: expected ']'", self.text, self.position)
            self.position += 1
            keys.append(match.group())
        return AttributePath(name, tuple(sub_attributes), tuple(keys))

    def _operator(self) -> str | None:
        for operator in OPERATORS:
            if self.text.startswith(operator, self.position):
                self.position += len(operator)
                return operator
        return None

    def _term(self) -> Term:
        attribute = self._attribute()
        start = self.position
        operator = self._operator()
        if operator is None:
            return Existence(attribute)
        if operator in ("~=", "!~="):
            return Pattern(attribute, self._regex(), negated=operator == "!~=")
        operand = self._operand()
        _check_operand(operator, operand, self.text, start)
        return Comparison(attribute, operator, operand)  # type: ignore[arg-type]

    def _operand(self) -> Operand:
        first = self._value()
        if self.text.startswith("..", self.position):
            self.position += 2
            return ValueRange(first, self._value())
        values = [first]
        while self._peek() == ",":
            self.position += 1
            values.append(self._value())
        return first if len(values) == 1 else ValueList(tuple(values))

    def _value(self) -> Value:
        start = self.position
        if self._peek() == '"':
            return Value("text", self._quoted("text"))
        end = start
        while end < len(self.text) and self.text[end] not in VALUE_END:
            if self.text.startswith("..", end):
                break
            end += 1
        token = self.text[start:end]
        if not token:
            raise _error("q: expected a value", self.text, start)
        value = _classify(token)
        if value is None:
            raise _error(
                "q: not a number, date, time, URI, true or false (quote text values)",
                self.text,
                start,
                token,
            )
        self.position = end
        return value

    def _quoted(self, what: str) -> str:
        start = self.position
        end = start + 1
        while end < len(self.text) and self.text[end] != '"':
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise _error(f"q: unterminated quoted {what}", self.text, start)
        raw = self.text[start : end + 1]
        try:
            decoded = json.loads(raw)
        except ValueError as exc:
            raise _error(f"q: bad escape in quoted {what}", self.text, start, raw) from exc
        self.position = end + 1
        return str(decoded)

    def _regex(self) -> str:
        start = self.position
        pattern = self._quoted("pattern") if self._peek() == '"' else self._bare_regex()
        if not pattern:
            raise _error("q: expected a pattern", self.text, start)
        check_regex(pattern, position=start)
        return pattern

    def _bare_regex(self) -> str:
        start = end = self.position
        depth = 0
        in_class = False
        while end < len(self.text):
            character = self.text[end]
            if character == "\\":
                end += 2
                continue
            if in_class:
                in_class = character != "]"
            elif character == "[":
                in_class = True
            elif character == "(":
                depth += 1
            elif character == ")":
                if depth == 0:
                    break
                depth -= 1
            elif character in ";|" and depth == 0:
                break
            end += 1
        end = min(end, len(self.text))
        self.position = end
        return self.text[start:end]


def check_regex(pattern: str, *, position: int = 0) -> None:
    """Refuse patterns that are too long or do not compile (BadRequestData)."""
    if len(pattern) > MAX_REGEX_LENGTH:
        raise BadRequestData(
            f"pattern longer than {MAX_REGEX_LENGTH} characters at position {position}",
            position=position,
            token=pattern[:20],
        )
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise BadRequestData(
            f"invalid regular expression {pattern!r} at position {position}: {exc}",
            position=position,
            token=pattern,
        ) from exc


def _classify(token: str) -> Value | None:
    """The literal a bare token spells, or None."""
    if token in ("true", "false"):
        return Value("boolean", token.startswith("t"))
    if NUMBER.fullmatch(token):
        if INTEGER.fullmatch(token):
            return Value("number", int(token))
        number = float(token)
        return Value("number", number) if number not in (float("inf"), float("-inf")) else None
    if DATETIME.fullmatch(token):
        return Value("datetime", token) if _valid(datetime.fromisoformat, token) else None
    if DATE.fullmatch(token):
        return Value("date", token) if _valid(date.fromisoformat, token) else None
    if TIME.fullmatch(token):
        return Value("time", token) if _valid(time.fromisoformat, token.removesuffix("Z")) else None
    if URI.fullmatch(token):
        return Value("uri", token)
    return None


def _valid(parse: Callable[[str], object], token: str) -> bool:
    try:
        parse(token)
    except ValueError:
        return False
    return True


def _check_operand(operator: str, operand: Operand, text: str, position: int) -> None:
    if isinstance(operand, ValueRange | ValueList) and operator not in ("==", "!="):
        raise _error("q: ranges and lists only go with == or !=", text, position, operator)
    if isinstance(operand, ValueRange):
        low, high = operand.low, operand.high
        if low.kind != high.kind or low.kind not in ORDERED_KINDS:
            raise _error(
                "q: a range needs two numbers, texts, dates, times or date-times",
                text,
                position,
                operand.to_text(),
            )
    if (
        isinstance(operand, Value)
        and operand.kind not in ORDERED_KINDS
        and operator
        not in (
            "==",
            "!=",
        )
    ):
        raise _error(f"q: {operand.kind} values only go with == or !=", text, position, operator)


def parse_q(text: str) -> Query:
    """Parse a ``q`` expression (names as written; see :func:`expand_query`)."""
    return _QueryParser(text).parse()


def expand_query(query: Query, expand: Callable[[str], str]) -> Query:
    """The same query with attribute and sub-attribute names expanded to IRIs.

    Instance members (``observedAt``, ``unitCode``, ...) stay as they are; keys inside a
    JSON value are matched literally, as they are stored. Text and URI literals keep
    their text and gain its expansion as a vocabulary term (``Value.term``), which is
    what a VocabProperty's stored terms are compared with.
    """
    if isinstance(query, AllOf):
        return AllOf(tuple(expand_query(term, expand) for term in query.terms))
    if isinstance(query, AnyOf):
        return AnyOf(tuple(expand_query(term, expand) for term in query.terms))
    path = query.attribute
    expanded = AttributePath(
        expand(path.name),
        tuple(name if name in INSTANCE_MEMBERS else expand(name) for name in path.sub_attributes),
        path.keys,
    )
    if isinstance(query, Comparison):
        return Comparison(expanded, query.operator, _expand_operand(query.operand, expand))
    if isinstance(query, Pattern):
        return Pattern(expanded, query.regex, query.negated)
    return Existence(expanded)


def _expand_operand(operand: Operand, expand: Callable[[str], str]) -> Operand:
    if isinstance(operand, ValueRange):
        return ValueRange(_expand_value(operand.low, expand), _expand_value(operand.high, expand))
    if isinstance(operand, ValueList):
        return ValueList(tuple(_expand_value(value, expand) for value in operand.values))
    return _expand_value(operand, expand)


def _expand_value(value: Value, expand: Callable[[str], str]) -> Value:
    if value.kind not in VOCABULARY_KINDS or not isinstance(value.value, str):
        return value
    try:
        term = expand(value.value)
    except BadRequestData:
        # Not a term at all (the expansion refused it): it can equal no stored term.
        return value
    return Value(value.kind, value.value, term)


class _TypeParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.depth = 0

    def parse(self) -> TypeExpression:
        if not self.text:
            raise BadRequestData("type is empty", position=0, token="")
        expression = self._any()
        if self.position != len(self.text):
            raise _error("type: unexpected", self.text, self.position)
        return expression

    def _peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def _any(self) -> TypeExpression:
        terms = [self._all()]
        while self._peek() in ("|", ","):
            self.position += 1
            terms.append(self._all())
        return terms[0] if len(terms) == 1 else AnyType(tuple(terms))

    def _all(self) -> TypeExpression:
        terms = [self._primary()]
        while self._peek() == ";":
            self.position += 1
            terms.append(self._primary())
        return terms[0] if len(terms) == 1 else AllTypes(tuple(terms))

    def _primary(self) -> TypeExpression:
        if self._peek() == "(":
            start = self.position
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise _error(f"type: more than {MAX_NESTING} nested parentheses", self.text, start)
            self.position += 1
            expression = self._any()
            if self._peek() != ")":
                raise _error("type: expected ')'", self.text, self.position)
            self.position += 1
            self.depth -= 1
            return expression
        match = TYPE_NAME.match(self.text, self.position)
        if match is None:
            raise _error("type: expected a type name", self.text, self.position)
        self.position = match.end()
        return TypeName(match.group())


def parse_type_expression(text: str) -> TypeExpression:
    """Parse a ``type`` parameter: a list (``A,B``) or a v1.6 expression (``(A;B)|C``)."""
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequestData(
            f"type is longer than {MAX_QUERY_LENGTH} characters", position=0, token=text[:20]
        )
    return _TypeParser(text).parse()


def expand_types(expression: TypeExpression, expand: Callable[[str], str]) -> TypeExpression:
    """The same type expression with every type name expanded to an IRI."""
    if isinstance(expression, TypeName):
        return TypeName(expand(expression.name))
    terms = tuple(expand_types(term, expand) for term in expression.terms)
    return AllTypes(terms) if isinstance(expression, AllTypes) else AnyType(terms)


def type_names(expression: TypeExpression) -> frozenset[str]:
    """Every type name the expression mentions."""
    if isinstance(expression, TypeName):
        return frozenset({expression.name})
    return frozenset().union(*(type_names(term) for term in expression.terms))
