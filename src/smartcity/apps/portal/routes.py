"""HTTP of the citizen page: its JSON API (``api_routes``) and its pages (``page_routes``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from smartcity.apps.portal import api_routes, page_routes

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

router = APIRouter()
router.include_router(api_routes.router)
router.include_router(page_routes.router)


def body_limits(platform: Platform) -> dict[str, int]:
    """Document uploads may exceed the platform's body limit: the route counts its own
    bytes against the per-file limit (and the quota) as they arrive."""
    from smartcity.apps.portal.runtime import PortalRuntime

    limit = platform.state("portal", PortalRuntime).settings.max_file_bytes
    return {"/api/portal/documents": limit}
