"""NGSI-LD subscriptions endpoints."""

from fastapi import APIRouter

router = APIRouter()
