"""HTTP of the citizen page: its JSON API (``api_routes``) and its pages (``page_routes``)."""

from __future__ import annotations

from fastapi import APIRouter

from smartcity.apps.portal import api_routes, page_routes

router = APIRouter()
router.include_router(api_routes.router)
router.include_router(page_routes.router)
