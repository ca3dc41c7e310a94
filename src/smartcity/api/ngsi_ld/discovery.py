"""NGSI-LD discovery endpoints."""

from fastapi import APIRouter

router = APIRouter()
