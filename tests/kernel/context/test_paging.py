"""Every listing refuses the same pages with a reason, and never lets an offset overflow."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from smartcity.api.app import create_app
from smartcity.kernel.config import Settings
from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.paging import MAX_OFFSET, check_page
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store


@pytest.mark.parametrize(
    ("limit", "offset", "reason"),
    [(-1, 0, "limit"), (1001, 0, "limit"), (10, -1, "negative"), (10, MAX_OFFSET + 1, "at most")],
)
def test_bad_pages_are_refused_with_a_reason(limit: int, offset: int, reason: str) -> None:
    with pytest.raises(BadRequestData, match=reason):
        check_page(limit, offset)


def test_the_largest_offset_is_accepted() -> None:
    check_page(1000, MAX_OFFSET)


@pytest.mark.parametrize(
    "path",
    [
        "/ngsi-ld/v1/subscriptions",
        "/ngsi-ld/v1/entities?type=Probe",
        "/ngsi-ld/v1/temporal/entities?type=Probe",
        "/iot/devices",
    ],
)
def test_an_offset_beyond_64_bits_is_a_400_not_a_500(store: Store, path: str) -> None:
    platform = Platform.open(Settings(), store=store)
    with TestClient(create_app(platform)) as client:
        separator = "&" if "?" in path else "?"
        response = client.get(f"{path}{separator}limit=1&offset=9223372036854775808")
    assert response.status_code == 400, response.text
    assert "offset" in response.json()["detail"]
