"""The citizen page's JSON API under ``/api/portal``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/portal", tags=["市民主页 Citizen page"])
