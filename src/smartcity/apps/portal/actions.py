"""The only code that writes the citizen page's tables: one function per use case."""

from __future__ import annotations

import orjson
from sqlalchemy import insert, update

from smartcity.apps.portal import storage
from smartcity.apps.portal.interests import BY_CODE, MAX_INTERESTS, format_interests
from smartcity.apps.portal.models import Channel, ContactPreferences, ProfileUpdate
from smartcity.apps.portal.tables import portal_profile
from smartcity.kernel.errors import InvalidInput
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
