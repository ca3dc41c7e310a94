"""NGSI-LD temporal endpoints."""

from fastapi import APIRouter

router = APIRouter()
