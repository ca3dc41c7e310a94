"""The only code that writes the citizen page's tables: one function per use case."""

from __future__ import annotations

import unicodedata

import orjson
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import IntegrityError

from smartcity.apps.portal import storage
from smartcity.apps.portal.interests import BY_CODE, MAX_INTERESTS, format_interests
from smartcity.apps.portal.journeys import Journey
from smartcity.apps.portal.media import sniff_media_type
from smartcity.apps.portal.models import (
    Channel,
    ContactPreferences,
    DocumentView,
    ProfileUpdate,
)
from smartcity.apps.portal.runtime import PortalRuntime
from smartcity.apps.portal.tables import portal_document, portal_journey, portal_profile
from smartcity.kernel.errors import Conflict, InvalidInput, PayloadTooLarge
from smartcity.kernel.identity.models import Citizen
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
    now = platform.clock.now()
    with platform.store.begin() as conn:
        row = storage.profile_row(conn, citizen.id)
        values: dict[str, object] = {"updated_at": now}
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
        if row is None:
            values.setdefault("occupation", None)
            values.setdefault("interests", "")
            values.setdefault("contact", _checked_contact(ContactPreferences()))
            conn.execute(insert(portal_profile).values(person_id=citizen.id, **values))
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
