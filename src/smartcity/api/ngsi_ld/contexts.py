"""NGSI-LD contexts endpoints."""

from fastapi import APIRouter

router = APIRouter()
