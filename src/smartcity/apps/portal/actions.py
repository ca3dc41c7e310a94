"""The only code that writes the citizen page's tables: one function per use case."""

from __future__ import annotations

import datetime as dt
import unicodedata

import orjson
from sqlalchemy import Connection, delete, insert, text, update
from sqlalchemy.exc import IntegrityError

from smartcity.apps.portal import storage
from smartcity.apps.portal.interests import BY_CODE, MAX_INTERESTS, format_interests
from smartcity.apps.portal.journeys import Journey
from smartcity.apps.portal.links import draft_link, suggestion_link
from smartcity.apps.portal.media import sniff_media_type
from smartcity.apps.portal.models import (
    COMMENT_LENGTH,
    DRAFT_BODY_LENGTH,
    REPLY_LENGTH,
    SUGGESTION_BODY_LENGTH,
    TITLE_LENGTH,
    Channel,
    CommentRequest,
    CommentView,
    ContactPreferences,
    DocumentView,
    DraftRequest,
    DraftStatus,
    ProfileUpdate,
    ReplyRequest,
    SuggestionRequest,
)
from smartcity.apps.portal.profile import mask_name
from smartcity.apps.portal.runtime import PortalRuntime
from smartcity.apps.portal.tables import (
    portal_comment,
    portal_document,
    portal_draft,
    portal_journey,
    portal_profile,
    portal_suggestion,
)
from smartcity.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
)
from smartcity.kernel.identity.models import Citizen
from smartcity.kernel.identity.permissions import check_department
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.identity.queries import get_department
from smartcity.kernel.notify import notify
from smartcity.kernel.platform import Platform


def _checked_interests(codes: list[str]) -> str:
    unknown = sorted({code for code in codes if code not in BY_CODE})
    if unknown:
        raise InvalidInput(
            f"unknown interests: {', '.join(unknown)}; see GET /api/portal/interests",
            part="interests",
            unknown=unknown,
        )
    if len(set(codes)) > MAX_INTERESTS:
        raise InvalidInput(f"pick at most {MAX_INTERESTS} interests", part="interests")
    return format_interests(codes)


def _checked_occupation(text: str | None) -> str | None:
    if text is None:
        return None
    value = " ".join(text.split())
    if not value:
        raise InvalidInput(
            "occupation must not be blank; send null for the registry's", part="occupation"
        )
    return value


def _checked_contact(contact: ContactPreferences) -> str:
    # The inbox is where the page shows everything: it is always kept.
    channels = sorted({Channel.INBOX, *contact.channels})
    return orjson.dumps({"channels": channels, "receive_notices": contact.receive_notices}).decode()


def save_profile(platform: Platform, citizen: Citizen, change: ProfileUpdate) -> None:
    """Apply what the citizen changed; fields they did not send stay as they are."""
    sent = change.model_fields_set
    values: dict[str, object] = {"updated_at": platform.clock.now()}
    if "occupation" in sent:
        values["occupation"] = _checked_occupation(change.occupation)
    if "interests" in sent:
        if change.interests is None:
            raise InvalidInput("interests must be a list (empty to clear)", part="interests")
        values["interests"] = _checked_interests(change.interests)
    if "contact" in sent:
        if change.contact is None:
            raise InvalidInput("contact must be an object", part="contact")
        values["contact"] = _checked_contact(change.contact)
    try:
        _write_profile(platform, citizen, values)
    except IntegrityError:
        # The first save of a profile raced another: the row exists now, update it.
        _write_profile(platform, citizen, values)


def _write_profile(platform: Platform, citizen: Citizen, values: dict[str, object]) -> None:
    with platform.store.begin() as conn:
        if storage.profile_row(conn, citizen.id) is None:
            fresh = {
                "occupation": None,
                "interests": "",
                "contact": _checked_contact(ContactPreferences()),
                **values,
            }
            conn.execute(insert(portal_profile).values(person_id=citizen.id, **fresh))
        else:
            conn.execute(
                update(portal_profile)
                .where(portal_profile.c.person_id == citizen.id)
                .values(**values)
            )


# Longest document name kept (the column's width).
DOCUMENT_NAME_MAX = 200
# Key space of the per-person PostgreSQL advisory lock that serialises quota checks.
_QUOTA_LOCK = 0x706F7274 << 32


def checked_document_name(name: str) -> str:
    """A file name shown back to its owner: no paths, no control characters, not blank."""
    value = unicodedata.normalize("NFC", name).strip()
    if not value:
        raise InvalidInput("name the file (?name=...)", part="name")
    if len(value) > DOCUMENT_NAME_MAX:
        raise InvalidInput(f"a file name has at most {DOCUMENT_NAME_MAX} characters", part="name")
    if any(ch in "/\\" or unicodedata.category(ch).startswith("C") for ch in value):
        raise InvalidInput("a file name has no slashes or control characters", part="name")
    if value in (".", ".."):
        raise InvalidInput("a file name is more than dots", part="name")
    return value


def _check_quota(quota: int, used: int, content: bytes) -> None:
    if used + len(content) > quota:
        raise PayloadTooLarge(
            f"this file needs {len(content)} bytes; {max(0, quota - used)} of your "
            f"{quota} bytes are free",
            quota=quota,
            used=used,
        )


def upload_document(
    platform: Platform, citizen: Citizen, name: str, content: bytes
) -> DocumentView:
    """Keep a file in the citizen's store; 413 over the file size limit or the quota."""
    runtime = platform.state("portal", PortalRuntime)
    settings = runtime.settings
    clean_name = checked_document_name(name)
    if len(content) > settings.max_file_bytes:
        raise PayloadTooLarge(
            f"a document has at most {settings.max_file_bytes} bytes",
            limit=settings.max_file_bytes,
        )
    media_type = sniff_media_type(content)
    with platform.store.connect() as conn:
        _check_quota(settings.quota_bytes, storage.document_usage(conn, citizen.id)[1], content)
    # Content first: a crash between the two leaves an unnamed file, never a dangling row.
    digest = runtime.content.put(content)
    with platform.store.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two uploads of one person must not both pass the quota check.
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _QUOTA_LOCK + citizen.id}
            )
        _check_quota(settings.quota_bytes, storage.document_usage(conn, citizen.id)[1], content)
        document_id = conn.execute(
            insert(portal_document)
            .values(
                person_id=citizen.id,
                name=clean_name,
                media_type=media_type,
                size_bytes=len(content),
                sha256=digest,
                uploaded_at=platform.clock.now(),
            )
            .returning(portal_document.c.id)
        ).scalar_one()
        document = storage.document_of(conn, citizen.id, int(document_id))
    # A delete of the same content may have removed the file meanwhile: put it back.
    if not runtime.content.has(digest):
        runtime.content.put(content)
    return document


def delete_document(platform: Platform, citizen: Citizen, document_id: int) -> None:
    """Remove one of the citizen's documents; its content goes when nobody else names it."""
    runtime = platform.state("portal", PortalRuntime)
    with platform.store.begin() as conn:
        document = storage.document_of(conn, citizen.id, document_id)
        conn.execute(delete(portal_document).where(portal_document.c.id == document.id))
    with platform.store.connect() as conn:
        left = storage.content_references(conn, document.sha256)
    if left == 0:
        runtime.content.remove(document.sha256)


def start_journey(platform: Platform, citizen: Citizen, journey: Journey) -> bool:
    """Start ``journey`` for the citizen; False when it was started already (no change)."""
    now = platform.clock.now()
    try:
        with platform.store.begin() as conn:
            if storage.journey_row(conn, citizen.id, journey.slug) is not None:
                return False
            conn.execute(
                insert(portal_journey).values(
                    person_id=citizen.id,
                    slug=journey.slug,
                    started_at=now,
                    done_steps="",
                    updated_at=now,
                )
            )
    except IntegrityError:
        # A second start of the same journey won the race: it is started either way.
        return False
    return True


def tick_step(
    platform: Platform, citizen: Citizen, journey: Journey, step_slug: str, done: bool
) -> None:
    """Mark a step of a started journey done or not done."""
    step = journey.step(step_slug)
    with platform.store.begin() as conn:
        row = storage.journey_row(conn, citizen.id, journey.slug)
        if row is None:
            raise Conflict(
                f"start the journey {journey.slug!r} first (POST .../start)", journey=journey.slug
            )
        steps = storage.done_steps_of(row)
        if done:
            steps.add(step.slug)
        else:
            steps.discard(step.slug)
        conn.execute(
            update(portal_journey)
            .where(portal_journey.c.id == row.id)
            .values(done_steps=",".join(sorted(steps)), updated_at=platform.clock.now())
        )


# The longest window a draft stays open for comment.
LONGEST_WINDOW = dt.timedelta(days=366)
# Key space of the per-account advisory lock that serialises the comment rate check.
_PACE_LOCK = 0x636F6D6D << 32


def checked_text(text: str, part: str, bounds: tuple[int, int]) -> str:
    """``text`` with runs of spaces collapsed (line breaks kept), within ``bounds`` characters."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    value = "\n".join(lines).strip()
    while "\n\n\n" in value:
        value = value.replace("\n\n\n", "\n\n")
    if any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in value):
        raise InvalidInput(f"{part} has control characters", part=part)
    low, high = bounds
    if not low <= len(value) <= high:
        raise InvalidInput(f"{part} must have {low} to {high} characters", part=part)
    return value


def _check_department_exists(platform: Platform, code: str) -> None:
    try:
        get_department(platform.store, code)
    except NotFound:
        raise InvalidInput(f"no department {code!r}", part="department_code") from None


def publish_draft(platform: Platform, principal: Principal, request: DraftRequest) -> int:
    """A department puts a policy draft out for comment; answers its id."""
    now = platform.clock.now()
    department = request.department_code or principal.department_code
    if department is None:
        raise InvalidInput("name the department_code of the draft", part="department_code")
    check_department(principal, department)
    _check_department_exists(platform, department)
    opens_at = request.opens_at or now
    closes_at = request.closes_at
    for name, moment in (("opens_at", opens_at), ("closes_at", closes_at)):
        if moment.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone (e.g. +08:00 or Z)", part=name)
    if closes_at <= opens_at:
        raise InvalidInput("closes_at must come after opens_at", part="closes_at")
    if closes_at <= now:
        raise InvalidInput("closes_at is already past", part="closes_at")
    if closes_at - opens_at > LONGEST_WINDOW:
        raise InvalidInput("a draft is open for comment for at most a year", part="closes_at")
    values = {
        "department_code": department,
        "title": checked_text(request.title, "title", TITLE_LENGTH),
        "body": checked_text(request.body, "body", DRAFT_BODY_LENGTH),
        "opens_at": opens_at,
        "closes_at": closes_at,
        "published_by": principal.account_id,
        "published_at": now,
    }
    with platform.store.begin() as conn:
        return int(
            conn.execute(
                insert(portal_draft).values(**values).returning(portal_draft.c.id)
            ).scalar_one()
        )


def _check_pace(platform: Platform, last: dt.datetime | None) -> None:
    interval = platform.state("portal", PortalRuntime).settings.comment_interval_seconds
    if last is None:
        return
    waited = (platform.clock.now() - last).total_seconds()
    if waited < interval:
        wait = max(1, int(interval - waited + 0.999))
        raise TooManyRequests(
            f"one comment or suggestion per {interval} seconds; try again in {wait} s",
            retry_after_seconds=wait,
        )


def _lock_account(conn: Connection, account_id: int) -> None:
    if conn.dialect.name == "postgresql":
        # Two comments sent at once must not both pass the pace check.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PACE_LOCK + account_id})


def comment_on_draft(
    platform: Platform,
    principal: Principal,
    citizen: Citizen,
    draft_id: int,
    request: CommentRequest,
) -> CommentView:
    """A citizen comments on a draft while it is open, at most once a minute."""
    body = checked_text(request.body, "body", COMMENT_LENGTH)
    now = platform.clock.now()
    with platform.store.begin() as conn:
        draft = storage.draft_row(conn, draft_id)
        state = storage.status_of(draft.opens_at, draft.closes_at, now)
        if state is DraftStatus.UPCOMING:
            raise NotFound(f"no draft {draft_id}", draft=draft_id)
        if state is DraftStatus.CLOSED:
            raise Conflict("the draft is closed for comment", draft=draft_id)
        _lock_account(conn, principal.account_id)
        _check_pace(platform, storage.last_comment_at(conn, principal.account_id))
        comment_id = conn.execute(
            insert(portal_comment)
            .values(
                draft_id=draft_id,
                account_id=principal.account_id,
                author=mask_name(citizen.name),
                body=body,
                created_at=now,
            )
            .returning(portal_comment.c.id)
        ).scalar_one()
        return storage.comment_of(storage.comment_row(conn, int(comment_id)))


def send_suggestion(
    platform: Platform, principal: Principal, citizen: Citizen, request: SuggestionRequest
) -> int:
    """A citizen sends a suggestion to a department; answers its id."""
    title = checked_text(request.title, "title", TITLE_LENGTH)
    body = checked_text(request.body, "body", SUGGESTION_BODY_LENGTH)
    _check_department_exists(platform, request.department_code)
    now = platform.clock.now()
    with platform.store.begin() as conn:
        _lock_account(conn, principal.account_id)
        _check_pace(platform, storage.last_suggestion_at(conn, principal.account_id))
        return int(
            conn.execute(
                insert(portal_suggestion)
                .values(
                    department_code=request.department_code,
                    account_id=principal.account_id,
                    author=mask_name(citizen.name),
                    title=title,
                    body=body,
                    created_at=now,
                )
                .returning(portal_suggestion.c.id)
            ).scalar_one()
        )


def reply_to_comment(
    platform: Platform, principal: Principal, comment_id: int, request: ReplyRequest
) -> int:
    """Staff of the draft's department answer a comment publicly; the citizen is told."""
    reply = checked_text(request.reply, "reply", REPLY_LENGTH)
    now = platform.clock.now()
    with platform.store.begin() as conn:
        comment = storage.comment_row(conn, comment_id)
        draft = storage.draft_row(conn, comment.draft_id)
        check_department(principal, draft.department_code)
        conn.execute(
            update(portal_comment)
            .where(portal_comment.c.id == comment_id)
            .values(reply=reply, replied_by=principal.account_id, replied_at=now)
        )
        notify(
            conn,
            comment.account_id,
            "message",
            {"title": f"您对《{draft.title}》的意见已获答复", "body": reply},
            None,
            now,
            link=draft_link(int(draft.id)),
            bus=platform.bus,
        )
        return int(draft.id)


def reply_to_suggestion(
    platform: Platform, principal: Principal, suggestion_id: int, request: ReplyRequest
) -> None:
    """Staff of the department answer a suggestion publicly; the citizen is told."""
    reply = checked_text(request.reply, "reply", REPLY_LENGTH)
    now = platform.clock.now()
    with platform.store.begin() as conn:
        suggestion = storage.suggestion_row(conn, suggestion_id)
        check_department(principal, suggestion.department_code)
        conn.execute(
            update(portal_suggestion)
            .where(portal_suggestion.c.id == suggestion_id)
            .values(reply=reply, replied_by=principal.account_id, replied_at=now)
        )
        notify(
            conn,
            suggestion.account_id,
            "message",
            {"title": f"您的建议《{suggestion.title}》已获答复", "body": reply},
            None,
            now,
            link=suggestion_link(int(suggestion.id)),
            bus=platform.bus,
        )
