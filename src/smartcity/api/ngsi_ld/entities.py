"""NGSI-LD entities endpoints."""

from fastapi import APIRouter

router = APIRouter()
