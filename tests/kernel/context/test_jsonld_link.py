"""Where a request's @context comes from: Link header or body (NGSI-LD 6.3.5)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.jsonld import (
    CORE_CONTEXT_URL,
    JSONLD_CONTEXT_REL,
    NO_BODY,
    NO_CONTEXT_MEMBER,
    context_link_header,
    is_json_ld,
    parse_link_header,
    request_context_value,
)

USER_URL = "https://contexts.city.example/traffic.jsonld"
LINK = f'<{USER_URL}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"'


def test_the_link_header_a_response_sends_parses_back() -> None:
    assert parse_link_header(context_link_header(CORE_CONTEXT_URL)) == CORE_CONTEXT_URL


@pytest.mark.parametrize(
    "header",
    [
        LINK,
        f"<{USER_URL}>;rel={JSONLD_CONTEXT_REL}",
        f'<https://e.org/next>; rel="next", <{USER_URL}>; rel="{JSONLD_CONTEXT_REL}"',
        f'<{USER_URL}>; type="application/ld+json"; rel="alternate {JSONLD_CONTEXT_REL}"',
        f'  <{USER_URL}> ;  REL = "{JSONLD_CONTEXT_REL}"  ',
    ],
)
def test_link_header_forms(header: str) -> None:
    assert parse_link_header(header) == USER_URL


@pytest.mark.parametrize("header", [None, "", '<https://e.org/next>; rel="next"'])
def test_no_context_link(header: str | None) -> None:
    assert parse_link_header(header) is None


@pytest.mark.parametrize(
    "header",
    [
        "https://e.org/context.jsonld",
        f'<{USER_URL}; rel="{JSONLD_CONTEXT_REL}"',
        f'<{USER_URL}>; rel="{JSONLD_CONTEXT_REL}',
        f'<{USER_URL}> rel="{JSONLD_CONTEXT_REL}"',
        f"{LINK}, {LINK}",
    ],
)
def test_malformed_or_ambiguous_link_headers_are_bad_request_data(header: str) -> None:
    with pytest.raises(BadRequestData):
        parse_link_header(header)


urls = st.from_regex(r"https?://[a-z]{1,10}\.example/[A-Za-z0-9/._;,=\-]{0,30}", fullmatch=True)


@given(urls, st.lists(urls, max_size=3))
def test_the_context_link_is_found_among_any_links(url: str, others: list[str]) -> None:
    links = [f'<{other}>; rel="alternate"; title="a, b; c"' for other in others]
    links.insert(len(links) // 2, context_link_header(url))
    assert parse_link_header(", ".join(links)) == url


@given(st.text(max_size=60))
def test_the_parser_never_fails_other_than_bad_request_data(header: str) -> None:
    with contextlib.suppress(BadRequestData):
        parse_link_header(header)


def test_json_requests_take_the_link_header() -> None:
    assert (
        request_context_value(
            content_type="application/json", link_header=LINK, body_context=NO_CONTEXT_MEMBER
        )
        == USER_URL
    )
    assert (
        request_context_value(
            content_type="application/json; charset=utf-8",
            link_header=None,
            body_context=NO_CONTEXT_MEMBER,
        )
        is None
    )


def test_json_bodies_cannot_carry_a_context() -> None:
    with pytest.raises(BadRequestData, match="application/json body cannot"):
        request_context_value(
            content_type="application/json", link_header=None, body_context=USER_URL
        )


def test_json_ld_requests_take_the_body_context() -> None:
    inline = [{"speed": "https://e.org/speed"}, CORE_CONTEXT_URL]
    assert (
        request_context_value(
            content_type="application/ld+json", link_header=None, body_context=inline
        )
        == inline
    )


def test_json_ld_requests_need_a_body_context_and_no_link_header() -> None:
    with pytest.raises(BadRequestData, match="must have an @context"):
        request_context_value(
            content_type="application/ld+json", link_header=None, body_context=NO_CONTEXT_MEMBER
        )
    with pytest.raises(BadRequestData, match="not in a Link header"):
        request_context_value(
            content_type="application/ld+json", link_header=LINK, body_context=USER_URL
        )


def test_requests_without_a_body_take_the_link_header() -> None:
    assert request_context_value(content_type=None, link_header=LINK) == USER_URL
    assert request_context_value(content_type=None, link_header=None, body_context=NO_BODY) is None


def test_media_type_detection() -> None:
    assert is_json_ld("application/ld+json")
    assert is_json_ld("Application/LD+JSON; charset=utf-8")
    assert not is_json_ld("application/json")
    assert not is_json_ld(None)
