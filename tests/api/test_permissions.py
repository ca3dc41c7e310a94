"""Every route declares who may call it: a permission, or a public reason.

The walk covers the assembled application with every installed app, so a route added
later without a declaration fails here, not in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.api.permissions import PUBLIC_PREFIXES, Requires
from smartcity.apps import installed_apps
from smartcity.kernel.config import Settings
from smartcity.kernel.identity.permissions import CATALOGUE, Permission, holds
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def application(store: Store, tmp_path: Path) -> FastAPI:
    platform = Platform.open(
        Settings(data_dir=tmp_path), apps=installed_apps(), store=store, migrate=False
    )
    return create_app(platform)


def _is_public_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PREFIXES)


def test_every_operation_declares_its_permissions_or_why_it_is_public(
    application: FastAPI,
) -> None:
    undeclared: list[str] = []
    for path, item in application.openapi()["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or _is_public_path(path):
                continue
            declared = operation.get("x-permissions")
            if declared is None or (not declared and not operation.get("x-public")):
                undeclared.append(f"{method.upper()} {path}")
            for name in declared or ():
                Permission(name)  # a name outside the catalogue fails here
    assert not undeclared, f"routes without x-permissions or x-public: {undeclared}"


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        original = getattr(route, "original_router", None)
        if isinstance(original, APIRouter):
            yield from _routes(original.routes)


def _required(dependant: Dependant) -> set[str]:
    found: set[str] = set()
    for sub in dependant.dependencies:
        if isinstance(sub.call, Requires):
            found.update(p.value for p in sub.call.permissions)
        found |= _required(sub)
    return found


def test_declared_permissions_are_the_ones_enforced(application: FastAPI) -> None:
    checked = 0
    for route in _routes(application.routes):
        declared = set((route.openapi_extra or {}).get("x-permissions") or ())
        enforced = _required(route.dependant)
        assert declared == enforced, f"{route.path}: declares {declared}, enforces {enforced}"
        checked += 1
    assert checked > 10


def test_public_routes_answer_without_a_token(application: FastAPI) -> None:
    with TestClient(application) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/auth/permissions").status_code == 200
        assert client.get("/auth/me").status_code == 401
        # Under /pki the relying parties' answers are public, a holder's own routes are not.
        assert client.get("/pki/crl").status_code == 200
        assert client.post("/auth/certificate/challenge").status_code == 201
        assert client.get("/pki/certificates/mine").status_code == 401
        assert client.post("/pki/certificates", json={"generate": True}).status_code == 401


@pytest.mark.parametrize("permission", list(Permission))
def test_every_permission_is_in_the_catalogue_and_held_by_someone(permission: Permission) -> None:
    grant = CATALOGUE[permission]
    holders = [
        Principal(1, kind, "s", "GZ-GAJ", frozenset(role.value for role in grant.roles))
        for kind in grant.kinds
    ]
    assert any(holds(p, permission) for p in holders)
    nobody = Principal(1, AccountKind.MACHINE, "client-x")
    assert not holds(nobody, permission)
