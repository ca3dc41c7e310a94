"""The token endpoint's form parser: what an OAuth client encodes comes back unchanged."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from smartcity.api.identity.oauth_routes import FORM, read_form
from smartcity.kernel.identity.oauth import InvalidRequest

names = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20)
values = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60
)


def _request(body: bytes, content_type: str = FORM) -> Request:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "headers": [(b"content-type", content_type.encode())]}
    return Request(scope, receive)


@given(st.dictionaries(names, values, max_size=8))
def test_urlencoded_forms_round_trip(form: dict[str, str]) -> None:
    body = urlencode(form).encode()
    assert asyncio.run(read_form(_request(body))) == form


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_fail_as_invalid_request(body: bytes) -> None:
    try:
        parsed = asyncio.run(read_form(_request(body)))
    except InvalidRequest as refused:
        assert refused.status == 400
    else:
        assert all(isinstance(v, str) for v in parsed.values())


def test_other_media_types_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="x-www-form-urlencoded"):
        asyncio.run(read_form(_request(b"{}", "application/json")))
