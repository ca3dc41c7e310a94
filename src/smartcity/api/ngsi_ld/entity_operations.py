"""NGSI-LD entity operations endpoints."""

from fastapi import APIRouter

router = APIRouter()
