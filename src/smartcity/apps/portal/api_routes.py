"""The citizen page's JSON API under ``/api/portal``: thin, checks declared beside each route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from smartcity.api.auth import OptionalPrincipal
from smartcity.api.dependencies import get_platform
from smartcity.api.permissions import public
from smartcity.apps.portal import actions, storage
from smartcity.apps.portal.interests import INTERESTS
from smartcity.apps.portal.journey_views import journey_view
from smartcity.apps.portal.journeys import catalogue
from smartcity.apps.portal.media import ACCEPTED
from smartcity.apps.portal.models import (
    CommentRequest,
    CommentView,
    DocumentList,
    DocumentView,
    DraftDetail,
    DraftRequest,
    DraftStatus,
    DraftView,
    InterestView,
    JourneySummary,
    JourneyView,
    MyPage,
    ProfileUpdate,
    ProfileView,
    ReplyRequest,
    SectionView,
    StepChange,
    SuggestionRequest,
    SuggestionView,
)
from smartcity.apps.portal.permissions import CITIZEN, CONSULTATION
from smartcity.apps.portal.profile import citizen_of, load_profile, summarise
from smartcity.apps.portal.runtime import PortalRuntime
from smartcity.kernel.errors import NotFound, PayloadTooLarge
from smartcity.kernel.identity.permissions import check_department
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.platform import Platform

router = APIRouter(prefix="/api/portal", tags=["市民主页 Citizen page"])

PlatformDependency = Annotated[Platform, Depends(get_platform)]
CitizenPrincipal = Annotated[Principal, Depends(CITIZEN)]
DocumentId = Annotated[int, Path(ge=1, le=2**62)]
StaffPrincipal = Annotated[Principal, Depends(CONSULTATION)]
RowId = Annotated[int, Path(ge=1, le=2**62)]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=100_000)]
DepartmentCode = Annotated[str | None, Query(max_length=16)]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]


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


@router.get("/documents", summary="我的材料 My documents", openapi_extra=CITIZEN.openapi)
def documents(platform: PlatformDependency, principal: CitizenPrincipal) -> DocumentList:
    citizen = citizen_of(platform, principal)
    settings = platform.state("portal", PortalRuntime).settings
    with platform.store.connect() as conn:
        found = storage.documents_of(conn, citizen.id)
    return DocumentList(
        documents=found,
        count=len(found),
        used_bytes=sum(document.size_bytes for document in found),
        quota_bytes=settings.quota_bytes,
        max_file_bytes=settings.max_file_bytes,
    )


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "the file's bytes; its type is told from its content",
        "content": {
            media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
            for media in ACCEPTED
        },
    }
}


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    summary="上传材料 Upload a document",
    openapi_extra={**CITIZEN.openapi, **_UPLOAD_BODY},
)
async def upload_document(
    request: Request,
    platform: PlatformDependency,
    principal: CitizenPrincipal,
    name: Annotated[str, Query(min_length=1, max_length=actions.DOCUMENT_NAME_MAX)],
) -> DocumentView:
    limit = platform.state("portal", PortalRuntime).settings.max_file_bytes
    parts: list[bytes] = []
    size = 0
    # Counted as it arrives: an oversized upload is refused without being held whole.
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"a document has at most {limit} bytes", limit=limit)
        parts.append(chunk)
    content = b"".join(parts)

    def keep() -> DocumentView:
        return actions.upload_document(platform, citizen_of(platform, principal), name, content)

    return await run_in_threadpool(keep)


@router.get(
    "/documents/{document_id}", summary="材料信息 One document", openapi_extra=CITIZEN.openapi
)
def document(
    document_id: DocumentId, platform: PlatformDependency, principal: CitizenPrincipal
) -> DocumentView:
    citizen = citizen_of(platform, principal)
    with platform.store.connect() as conn:
        return storage.document_of(conn, citizen.id, document_id)


@router.get(
    "/documents/{document_id}/content",
    summary="下载材料 Download a document",
    openapi_extra=CITIZEN.openapi,
    response_class=Response,
)
def document_content(
    document_id: DocumentId, platform: PlatformDependency, principal: CitizenPrincipal
) -> Response:
    citizen = citizen_of(platform, principal)
    with platform.store.connect() as conn:
        found = storage.document_of(conn, citizen.id, document_id)
    path = platform.state("portal", PortalRuntime).content.path_of(found.sha256)
    if not path.is_file():
        raise NotFound(f"the content of document {document_id} is missing", document=document_id)
    return FileResponse(
        path,
        media_type=found.media_type,
        filename=found.name,
        headers={"x-content-type-options": "nosniff", "cache-control": "private, no-store"},
    )


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="删除材料 Delete a document",
    openapi_extra=CITIZEN.openapi,
)
def delete_document(
    document_id: DocumentId, platform: PlatformDependency, principal: CitizenPrincipal
) -> Response:
    actions.delete_document(platform, citizen_of(platform, principal), document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/journeys",
    summary="场景式服务 Life-event journeys",
    openapi_extra=public("the catalogue of journeys is public guidance"),
)
def journeys() -> list[JourneySummary]:
    return [
        JourneySummary(
            slug=journey.slug,
            title_zh=journey.title_zh,
            title_en=journey.title_en,
            summary_zh=journey.summary_zh,
            summary_en=journey.summary_en,
            steps=len(journey.steps),
        )
        for journey in catalogue().journeys
    ]


@router.get(
    "/journeys/{slug}",
    summary="一个场景 One journey (personalised when signed in as a citizen)",
    openapi_extra=public("public guidance; a signed-in citizen also sees their progress"),
)
def journey(slug: Slug, platform: PlatformDependency, principal: OptionalPrincipal) -> JourneyView:
    found = catalogue().journey(slug)
    citizen = None
    if principal is not None and principal.kind is AccountKind.CITIZEN:
        citizen = citizen_of(platform, principal)
    return journey_view(platform, found, citizen)


@router.post(
    "/journeys/{slug}/start",
    summary="开始办理 Start a journey",
    openapi_extra=CITIZEN.openapi,
    responses={201: {"description": "started now"}, 200: {"description": "already started"}},
)
def start_journey(
    slug: Slug, response: Response, platform: PlatformDependency, principal: CitizenPrincipal
) -> JourneyView:
    found = catalogue().journey(slug)
    citizen = citizen_of(platform, principal)
    if actions.start_journey(platform, citizen, found):
        response.status_code = status.HTTP_201_CREATED
    return journey_view(platform, found, citizen)


@router.put(
    "/journeys/{slug}/steps/{step}",
    summary="勾选步骤 Mark a step done or not done",
    openapi_extra=CITIZEN.openapi,
)
def tick_step(
    slug: Slug,
    step: Slug,
    change: StepChange,
    platform: PlatformDependency,
    principal: CitizenPrincipal,
) -> JourneyView:
    found = catalogue().journey(slug)
    citizen = citizen_of(platform, principal)
    actions.tick_step(platform, citizen, found, step, change.done)
    return journey_view(platform, found, citizen)


@router.post(
    "/drafts",
    status_code=status.HTTP_201_CREATED,
    summary="发布征求意见稿 Publish a policy draft for comment",
    openapi_extra=CONSULTATION.openapi,
)
def publish_draft(
    body: DraftRequest, platform: PlatformDependency, principal: StaffPrincipal
) -> DraftDetail:
    draft_id = actions.publish_draft(platform, principal, body)
    with platform.store.connect() as conn:
        return storage.draft_detail(conn, draft_id, platform.clock.now())


@router.get(
    "/drafts",
    summary="征求意见 Policy drafts",
    openapi_extra=public("policy drafts and the comments on them are published openly"),
)
def drafts(
    platform: PlatformDependency,
    status: Annotated[DraftStatus | None, Query()] = None,
    department: DepartmentCode = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[DraftView]:
    if status is DraftStatus.UPCOMING:
        return []  # not published before they open
    with platform.store.connect() as conn:
        return storage.list_drafts(
            conn,
            platform.clock.now(),
            status=status,
            department_code=department,
            include_upcoming=False,
            limit=limit,
            offset=offset,
        )


@router.get(
    "/drafts/{draft_id}",
    summary="意见稿详情 One draft with its comments and replies",
    openapi_extra=public("policy drafts and the comments on them are published openly"),
)
def draft(draft_id: RowId, platform: PlatformDependency) -> DraftDetail:
    now = platform.clock.now()
    with platform.store.connect() as conn:
        found = storage.draft_detail(conn, draft_id, now)
    if found.status is DraftStatus.UPCOMING:
        raise NotFound(f"no draft {draft_id}", draft=draft_id)
    return found


@router.post(
    "/drafts/{draft_id}/comments",
    status_code=status.HTTP_201_CREATED,
    summary="发表意见 Comment on a draft",
    openapi_extra=CITIZEN.openapi,
)
def comment(
    draft_id: RowId, body: CommentRequest, platform: PlatformDependency, principal: CitizenPrincipal
) -> CommentView:
    citizen = citizen_of(platform, principal)
    return actions.comment_on_draft(platform, principal, citizen, draft_id, body)


@router.put(
    "/comments/{comment_id}/reply",
    summary="答复意见 Reply to a comment publicly",
    openapi_extra=CONSULTATION.openapi,
)
def reply_to_comment(
    comment_id: RowId, body: ReplyRequest, platform: PlatformDependency, principal: StaffPrincipal
) -> DraftDetail:
    draft_id = actions.reply_to_comment(platform, principal, comment_id, body)
    with platform.store.connect() as conn:
        return storage.draft_detail(conn, draft_id, platform.clock.now())


@router.post(
    "/suggestions",
    status_code=status.HTTP_201_CREATED,
    summary="建言献策 Send a suggestion to a department",
    openapi_extra=CITIZEN.openapi,
)
def suggest(
    body: SuggestionRequest, platform: PlatformDependency, principal: CitizenPrincipal
) -> SuggestionView:
    citizen = citizen_of(platform, principal)
    suggestion_id = actions.send_suggestion(platform, principal, citizen, body)
    with platform.store.connect() as conn:
        mine = storage.list_suggestions(conn, account_id=principal.account_id, limit=100)
    return next(s for s in mine if s.id == suggestion_id)


@router.get(
    "/suggestions",
    summary="建议答复 Answered suggestions",
    openapi_extra=public("suggestions are published once the department has answered them"),
)
def answered_suggestions(
    platform: PlatformDependency,
    department: DepartmentCode = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[SuggestionView]:
    with platform.store.connect() as conn:
        return storage.list_suggestions(
            conn, department_code=department, replied_only=True, limit=limit, offset=offset
        )


@router.get(
    "/suggestions/mine",
    summary="我的建议 My suggestions",
    openapi_extra=CITIZEN.openapi,
)
def my_suggestions(
    platform: PlatformDependency, principal: CitizenPrincipal, limit: Limit = 20, offset: Offset = 0
) -> list[SuggestionView]:
    with platform.store.connect() as conn:
        return storage.list_suggestions(
            conn, account_id=principal.account_id, limit=limit, offset=offset
        )


@router.get(
    "/staff/suggestions",
    summary="收到的建议 Suggestions to my department",
    openapi_extra=CONSULTATION.openapi,
)
def department_suggestions(
    platform: PlatformDependency,
    principal: StaffPrincipal,
    department: DepartmentCode = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[SuggestionView]:
    code = department or principal.department_code
    if code is None:
        raise NotFound("name a department", part="department")
    check_department(principal, code)
    with platform.store.connect() as conn:
        return storage.list_suggestions(conn, department_code=code, limit=limit, offset=offset)


@router.put(
    "/suggestions/{suggestion_id}/reply",
    summary="答复建议 Reply to a suggestion publicly",
    openapi_extra=CONSULTATION.openapi,
)
def reply_to_suggestion(
    suggestion_id: RowId,
    body: ReplyRequest,
    platform: PlatformDependency,
    principal: StaffPrincipal,
) -> SuggestionView:
    actions.reply_to_suggestion(platform, principal, suggestion_id, body)
    with platform.store.connect() as conn:
        row = storage.suggestion_row(conn, suggestion_id)
        listed = storage.list_suggestions(conn, department_code=row.department_code, limit=100)
    found = [s for s in listed if s.id == suggestion_id]
    if found:
        return found[0]
    raise NotFound(f"no suggestion {suggestion_id}", suggestion=suggestion_id)
