"""The citizen page's JSON API under ``/api/portal``: thin, checks declared beside each route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from smartcity.api.dependencies import get_platform
from smartcity.api.permissions import public
from smartcity.apps.portal import actions
from smartcity.apps.portal.interests import INTERESTS
from smartcity.apps.portal.models import (
    InterestView,
    MyPage,
    ProfileUpdate,
    ProfileView,
    SectionView,
)
from smartcity.apps.portal.permissions import CITIZEN
from smartcity.apps.portal.profile import citizen_of, load_profile, summarise
from smartcity.apps.portal.runtime import PortalRuntime
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.platform import Platform

router = APIRouter(prefix="/api/portal", tags=["市民主页 Citizen page"])

PlatformDependency = Annotated[Platform, Depends(get_platform)]
CitizenPrincipal = Annotated[Principal, Depends(CITIZEN)]


@router.get(
    "/interests",
    summary="兴趣分类 Interest vocabulary",
    openapi_extra=public("the vocabulary of interests is the same for everyone"),
)
def interests() -> list[InterestView]:
    return [
        InterestView(code=item.code, label_zh=item.label_zh, label_en=item.label_en)
        for item in INTERESTS
    ]


@router.get("/profile", summary="我的资料 My profile", openapi_extra=CITIZEN.openapi)
def profile(platform: PlatformDependency, principal: CitizenPrincipal) -> ProfileView:
    return load_profile(platform, citizen_of(platform, principal))


@router.put("/profile", summary="修改我的资料 Edit my profile", openapi_extra=CITIZEN.openapi)
def edit_profile(
    change: ProfileUpdate, platform: PlatformDependency, principal: CitizenPrincipal
) -> ProfileView:
    citizen = citizen_of(platform, principal)
    actions.save_profile(platform, citizen, change)
    return load_profile(platform, citizen)


@router.get("/me", summary="我的主页 My page summary", openapi_extra=CITIZEN.openapi)
def my_page(platform: PlatformDependency, principal: CitizenPrincipal) -> MyPage:
    citizen = citizen_of(platform, principal)
    registry = platform.state("portal", PortalRuntime).sections
    return MyPage(
        profile=summarise(load_profile(platform, citizen)),
        sections=[
            SectionView(
                name=answer.name,
                title_zh=answer.title_zh,
                title_en=answer.title_en,
                available=answer.available,
                reason=answer.reason,
                data=dict(answer.data) if answer.data is not None else None,
            )
            for answer in registry.answer(platform, principal)
        ],
    )
